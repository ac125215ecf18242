import { z } from 'zod';
import { once } from 'node:events';
import { defineRenderer, type Renderer } from '@kiln/renderers';

/**
 * A test-only kind for the CLI tests: it renders a small text file and reports the given warnings,
 * as a real renderer does when something in the input was not rendered as written. (No built-in
 * kind can be asked for a warning on demand.)
 */
const warn = defineRenderer({
  kind: 'test-warn',
  description: 'Writes a small text file and reports each of `warnings`.',
  inputSchema: z.object({ warnings: z.array(z.string().min(1).max(200)).max(10) }),
  example: { warnings: ['shrunk to fit'] },
  async render(input, ctx) {
    for (const w of input.warnings) ctx.warn(w);
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'warned.txt' });
    out.end(`${input.warnings.length} warnings\n`);
    await once(out, 'finish');
  },
});

export const renderers: Renderer<any>[] = [warn];
