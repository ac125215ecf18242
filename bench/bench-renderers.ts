import { z } from 'zod';
import { once } from 'node:events';
import { defineRenderer, type Renderer } from '@kiln/renderers';

/** Job slots of the bench kinds per worker process (the same number graphile-worker gets). */
const SLOTS = Number(process.env.BENCH_SLOTS ?? 2);

/**
 * `bench-noop`: does nothing, in the worker (no render process), like graphile-worker's no-op
 * task: the job machinery alone — accept, claim, events, settle. Loaded through
 * KILN_RENDER_MODULES by bench/compare-queue.ts and bench/core-throughput.ts.
 */
const noop = defineRenderer({
  kind: 'bench-noop',
  description: 'Does nothing (benchmarks only).',
  inputSchema: z.object({}).strict(),
  example: {},
  runsIn: 'worker',
  slots: { group: 'bench', size: SLOTS },
  async render() {},
});

/** `bench-tiny`: writes 3 bytes as an asset, in the worker: the machinery plus storage and an asset row. */
const tiny = defineRenderer({
  kind: 'bench-tiny',
  description: 'Writes "ok" (benchmarks only).',
  inputSchema: z.object({}).strict(),
  example: {},
  runsIn: 'worker',
  slots: { group: 'bench', size: SLOTS },
  async render(_input, ctx) {
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'ok.txt' });
    out.end('ok\n');
    await once(out, 'finish');
  },
});

export const renderers: Renderer<any>[] = [noop, tiny];
