import { z } from 'zod';
import { once } from 'node:events';
import { defineRenderer, type Renderer } from '@kiln/renderers';

/**
 * `bench-noop`: writes 3 bytes. Loaded by `bench/core-throughput.ts --kind noop` through
 * KILN_RENDERER_MODULES, to measure the job machinery (accept, claim, thread hand-off, storage,
 * asset row, events) without any rendering cost.
 */
const noop = defineRenderer({
  kind: 'bench-noop',
  description: 'Writes "ok" (benchmarks only).',
  inputSchema: z.object({}).strict(),
  example: {},
  async render(_input, ctx) {
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'ok.txt' });
    out.end('ok\n');
    await once(out, 'finish');
  },
});

export const renderers: Renderer<any>[] = [noop];
