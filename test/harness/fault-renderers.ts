import { appendFileSync } from 'node:fs';
import { once } from 'node:events';
import { z } from 'zod';
import { defineRenderer, type Renderer } from '@kiln/renderers';
import { sleep } from '../../server/test/support/test-renderers.js';

/**
 * A renderer kind for the fault scenarios only (loaded with KILN_RENDERER_MODULES): like
 * `test-slow`, but every render it performs leaves a line in a ledger file — when it started, in
 * which render process, and how it ended. The ledger, not the database, is then the witness of
 * how many times a job was really rendered and whether two renders of it overlapped (a job run
 * twice), which the database alone cannot show when a worker that lost a job keeps rendering it.
 * Lines are small single `appendFileSync` calls on an O_APPEND file, so concurrent render
 * processes never interleave within a line.
 */
export interface LedgerLine {
  token: string;
  pid: number;
  at: number;
  what: 'start' | 'completed' | 'aborted';
}

const probe = defineRenderer({
  kind: 'fault-probe',
  description: 'Waits in steps like test-slow, recording each render in a ledger file.',
  inputSchema: z.object({
    token: z.string().min(1).max(200),
    ledger: z.string().min(1).max(1000),
    ms: z.number().int().min(0).max(600_000),
    steps: z.number().int().min(1).max(100).default(4),
  }),
  example: { token: 'example', ledger: '/tmp/fault-probe-ledger.jsonl', ms: 100, steps: 2 },
  async render(input, ctx) {
    const write = (what: LedgerLine['what']) =>
      appendFileSync(input.ledger, JSON.stringify({ token: input.token, pid: process.pid, at: Date.now(), what } satisfies LedgerLine) + '\n');
    write('start');
    try {
      for (let i = 0; i < input.steps; i++) {
        await sleep(input.ms / input.steps, ctx.signal);
        ctx.progress((i + 1) / input.steps, `step-${i + 1}`);
      }
      const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'probe.txt' });
      out.end(`${input.token}\n`);
      await once(out, 'finish');
    } catch (err) {
      write('aborted');
      throw err;
    }
    write('completed');
  },
});

export const renderers: Renderer<any>[] = [probe];
