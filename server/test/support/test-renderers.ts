import { z } from 'zod';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { defineRenderer, RenderError, throwIfAborted, type Renderer } from '@kiln/renderers';

/**
 * Renderer kinds that exist only in the integration tests, loaded through `rendererModules`:
 * they make a job slow, fail, oversized or stuck on purpose, which the real renderers can't be
 * asked to do on demand.
 */
/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (as a render must). */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

const slow = defineRenderer({
  kind: 'test-slow',
  description: 'Waits in steps, reporting progress, then writes a small text file.',
  inputSchema: z.object({ ms: z.number().int().min(0).max(600_000), steps: z.number().int().min(1).max(100).default(5) }),
  example: { ms: 100, steps: 2 },
  async render(input, ctx) {
    for (let i = 0; i < input.steps; i++) {
      await sleep(input.ms / input.steps, ctx.signal);
      ctx.progress((i + 1) / input.steps, `step-${i + 1}`);
    }
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'slow.txt' });
    out.end(`slept ${input.ms} ms\n`);
    await once(out, 'finish');
  },
});

const fail = defineRenderer({
  kind: 'test-fail',
  description: 'Fails with the given code, optionally after writing part of an output.',
  inputSchema: z.object({ code: z.string().default('render_failed'), retryable: z.boolean().default(false), partial: z.boolean().default(false) }),
  example: { code: 'render_failed', retryable: false, partial: false },
  async render(input, ctx) {
    if (input.partial) {
      const out = ctx.output({ role: 'primary', contentType: 'application/octet-stream', filename: 'partial.bin' });
      out.write(Buffer.alloc(10_000, 1));
      out.end();
      await once(out, 'finish');
    }
    throw new RenderError(input.code, `asked to fail with ${input.code}`, { retryable: input.retryable });
  },
});

const bytes = defineRenderer({
  kind: 'test-bytes',
  description: 'Streams N bytes in 64 KiB chunks.',
  inputSchema: z.object({ bytes: z.number().int().min(0).max(2 ** 31) }),
  example: { bytes: 1024 },
  async render(input, ctx) {
    const out = ctx.output({ role: 'primary', contentType: 'application/octet-stream', filename: 'bytes.bin' });
    const chunk = Buffer.alloc(64 * 1024, 7);
    let left = input.bytes;
    while (left > 0) {
      throwIfAborted(ctx.signal);
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!out.write(part)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  },
});

const spin = defineRenderer({
  kind: 'test-spin',
  description: 'Busy-loops synchronously, deaf to its AbortSignal (a stuck renderer).',
  inputSchema: z.object({ ms: z.number().int().min(0).max(600_000) }),
  example: { ms: 10 },
  async render(input) {
    const end = Date.now() + input.ms;
    while (Date.now() < end) {
      /* stuck on purpose */
    }
  },
});

const copyAsset = defineRenderer({
  kind: 'test-copy',
  description: 'Copies an existing asset of the company.',
  inputSchema: z.object({ assetId: z.string() }),
  example: { assetId: '00000000-0000-0000-0000-000000000000' },
  assetRefs: (input) => [input.assetId],
  async render(input, ctx) {
    const src = await ctx.readAsset(input.assetId);
    const out = ctx.output({ role: 'primary', contentType: src.contentType, filename: 'copy.bin' });
    src.stream.pipe(out);
    await once(out, 'finish');
  },
});

const abortProcess = defineRenderer({
  kind: 'test-abort',
  description: 'Aborts its render process (a native crash), optionally only on the first try.',
  inputSchema: z.object({ onlyOnce: z.boolean().default(false), marker: z.string().optional() }),
  example: { onlyOnce: false },
  async render(input, ctx) {
    // The marker file survives the process: a second render of the same job sees it and succeeds.
    const marker = input.marker ? `${input.marker}.crashed` : null;
    if (!input.onlyOnce || (marker && !existsSync(marker))) {
      if (marker) writeFileSync(marker, 'x');
      process.abort();
    }
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'survived.txt' });
    out.end('survived\n');
    await once(out, 'finish');
  },
});

const hog = defineRenderer({
  kind: 'test-oom',
  description: 'Allocates native memory until its process is killed.',
  inputSchema: z.object({ mbPerStep: z.number().int().min(1).max(1024).default(64) }),
  example: { mbPerStep: 64 },
  async render(input) {
    const held: Buffer[] = [];
    for (;;) {
      // Filled, so the pages are really resident (an untouched allocation costs nothing).
      held.push(Buffer.alloc(input.mbPerStep * 1024 * 1024, 1));
      await new Promise((r) => setTimeout(r, 20));
    }
  },
});

const slowCheck = defineRenderer({
  kind: 'test-slow-check',
  description: 'An input whose submit-time check spins for `checkMs` (a stand-in for a costly parse), after waiting `waitMs` without using CPU (a stand-in for a check starved of a core).',
  inputSchema: z.object({ checkMs: z.number().int().min(0).max(600_000), waitMs: z.number().int().min(0).max(600_000).default(0) }),
  example: { checkMs: 0 },
  async preflight(input) {
    if (input.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, input.waitMs));
    const end = Date.now() + input.checkMs;
    while (Date.now() < end) {
      /* busy on purpose, like a pathological compile */
    }
  },
  async render(_input, ctx) {
    const out = ctx.output({ role: 'primary', contentType: 'text/plain', filename: 'checked.txt' });
    out.end('checked\n');
    await once(out, 'finish');
  },
});

/** Writes which process it ran in; runs in the worker itself (no render process), 3 at a time. */
const inWorker = defineRenderer({
  kind: 'test-in-worker',
  description: 'Waits `ms`, then writes the pid of the process it ran in.',
  inputSchema: z.object({ ms: z.number().int().min(0).max(60_000).default(0) }),
  example: { ms: 0 },
  runsIn: 'worker',
  slots: { group: 'test-net', size: 3 },
  async render(input, ctx) {
    await sleep(input.ms, ctx.signal);
    const out = ctx.output({ role: 'primary', contentType: 'application/json', filename: 'pid.json' });
    out.end(JSON.stringify({ pid: process.pid }));
    await once(out, 'finish');
  },
});

/**
 * Stores a checkpoint, then (first attempt) fails in a way that is retried; a later attempt finds
 * the checkpoint in ctx.resume and writes it out. `where` picks where it runs.
 */
const checkpointing = (kind: string, runsIn: 'worker' | 'render-process') =>
  defineRenderer({
    kind,
    description: 'Checkpoints, fails once, resumes.',
    inputSchema: z.object({ remoteId: z.string() }),
    example: { remoteId: 'r-1' },
    runsIn,
    async render(input, ctx) {
      if (ctx.resume === undefined) {
        await ctx.checkpoint({ remoteId: input.remoteId, startedBy: process.pid });
        throw new RenderError('render_failed', 'lost the connection after starting the remote job', { retryable: true });
      }
      const out = ctx.output({ role: 'primary', contentType: 'application/json', filename: 'resumed.json' });
      out.end(JSON.stringify({ resumed: ctx.resume }));
      await once(out, 'finish');
    },
  });

export const renderers: Renderer<any>[] = [
  slow, fail, bytes, spin, copyAsset, abortProcess, hog, slowCheck, inWorker,
  checkpointing('test-checkpoint', 'render-process'), checkpointing('test-checkpoint-in-worker', 'worker'),
];
