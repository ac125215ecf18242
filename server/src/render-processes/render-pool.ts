import type { Readable, Writable } from 'node:stream';
import type { InputAsset, OutputOptions, RenderResult } from '@kiln/renderers';
import type { FromRenderProcess, SerializedRenderError } from './render-protocol.js';
import { createProcessPool, type ProcessPool } from './process-pool.js';

export interface RenderHooks {
  signal: AbortSignal;
  progress(fraction: number, stage: string): void;
  log(line: string): void;
  warn(message: string): void;
  openOutput(options: OutputOptions): Writable;
  readAsset(assetId: string): Promise<InputAsset>;
  checkpoint(state: unknown): Promise<void>;
  /** The checkpoint of an earlier attempt, handed to the renderer as ctx.resume. */
  resume?: unknown;
}

export class RenderFailure extends Error {
  constructor(public readonly error: SerializedRenderError) {
    super(error.message);
    this.name = 'RenderFailure';
  }
}

/** A render process died under a job (native abort, out of memory, killed by its watchdog). */
export const isRenderCrash = (err: unknown): err is RenderFailure => err instanceof RenderFailure && err.error.code === 'render_crashed';

/** How long an aborted render may take to wind down before its process is killed. */
const ABORT_GRACE_MS = 1500;

export interface RenderPoolOptions {
  size: number;
  rendererModules?: string[];
  memoryLimitMb: number;
}

/**
 * Runs renders in a pool of render processes, one job per process at a time. A render that
 * ignores an abort has its process killed and replaced, so a cancel or timeout always ends the
 * job promptly even when a renderer is stuck in synchronous or native code; a process that dies
 * mid-render fails the render with `render_crashed` and leaves the server and other jobs as they
 * were.
 */
export function createRenderPool(options: RenderPoolOptions) {
  const pool = createProcessPool({ size: options.size, rendererModules: options.rendererModules ?? [], memoryLimitMb: options.memoryLimitMb });
  return {
    run: (kind: string, input: unknown, tmpDir: string, hooks: RenderHooks) => runInPool(pool, kind, input, tmpDir, hooks),
    warm: () => pool.warm(),
    close: () => pool.close(),
    size: () => pool.size(),
    readyCount: () => pool.readyCount(),
  };
}

export type RenderPool = ReturnType<typeof createRenderPool>;

/** One render in a process of `pool`, with outputs, asset reads, progress and abort wired to `hooks`. */
export async function runInPool(pool: ProcessPool, kind: string, input: unknown, tmpDir: string, hooks: RenderHooks): Promise<RenderResult | null> {
  // A job aborted while it waits for a process (they may still be starting) stops waiting.
  const proc = await pool.acquire(hooks.signal);
  if (hooks.signal.aborted) {
    pool.release(proc);
    throw hooks.signal.reason;
  }
  const { child } = proc;
  const outputs = new Map<number, Writable>();
  const sources = new Map<number, Readable>();
  let graceTimer: NodeJS.Timeout | null = null;
  let detach = () => {};

  try {
    return await new Promise<RenderResult | null>((resolve, reject) => {
      const onAbort = () => {
        proc.send({ type: 'abort', reason: String((hooks.signal.reason as Error)?.message ?? 'aborted') });
        graceTimer = setTimeout(() => {
          proc.kill('did not stop within 1.5 s of being aborted');
          reject(new RenderFailure({ code: 'aborted', message: 'render process did not stop; killed', retryable: false, aborted: true }));
        }, ABORT_GRACE_MS);
      };
      void proc.exited.then((how) =>
        reject(
          new RenderFailure({
            code: 'render_crashed',
            message: `The render process ${how}.`,
            retryable: false,
            aborted: hooks.signal.aborted,
          }),
        ),
      );
      const onMessage = (m: FromRenderProcess) => {
        switch (m.type) {
          case 'progress':
            hooks.progress(m.fraction, m.stage);
            break;
          case 'log':
            hooks.log(m.line);
            break;
          case 'warn':
            hooks.warn(m.message);
            break;
          case 'checkpoint':
            hooks.checkpoint(m.state).then(
              () => proc.send({ type: 'checkpoint-done', reqId: m.reqId }),
              (err: Error) => proc.send({ type: 'checkpoint-done', reqId: m.reqId, error: err.message }),
            );
            break;
          case 'output-open': {
            const ws = hooks.openOutput(m.options);
            ws.on('error', (err) => proc.send({ type: 'output-failed', streamId: m.streamId, message: err.message }));
            outputs.set(m.streamId, ws);
            break;
          }
          case 'output-chunk': {
            const ws = outputs.get(m.streamId);
            if (!ws || ws.destroyed) break;
            const bytes = m.chunk.byteLength;
            const ack = () => proc.send({ type: 'output-ack', streamId: m.streamId, bytes });
            if (ws.write(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, bytes))) ack();
            else ws.once('drain', ack);
            break;
          }
          case 'output-end':
            outputs.get(m.streamId)?.end();
            break;
          case 'output-abort':
            outputs.get(m.streamId)?.destroy(new Error(m.message));
            break;
          case 'asset-read':
            hooks.readAsset(m.assetId).then(
              (asset) => {
                const src = asset.stream;
                sources.set(m.reqId, src);
                src.on('data', (chunk: Buffer) => {
                  src.pause();
                  proc.send({ type: 'asset-chunk', reqId: m.reqId, chunk: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) });
                });
                src.on('end', () => proc.send({ type: 'asset-end', reqId: m.reqId }));
                src.on('error', (err) => proc.send({ type: 'asset-error', reqId: m.reqId, code: 'render_failed', message: err.message }));
                src.pause();
                proc.send({ type: 'asset-meta', reqId: m.reqId, id: asset.id, contentType: asset.contentType, byteSize: asset.byteSize, metadata: asset.metadata });
              },
              (err: Error & { code?: string }) =>
                proc.send({ type: 'asset-error', reqId: m.reqId, code: err.code ?? 'asset_not_found', message: err.message }),
            );
            break;
          case 'asset-pull':
            sources.get(m.reqId)?.resume();
            break;
          case 'asset-cancel':
            sources.get(m.reqId)?.destroy();
            break;
          case 'done':
            resolve(m.result);
            break;
          case 'failed':
            reject(new RenderFailure(m.error));
            break;
        }
      };
      child.on('message', onMessage);
      // The render first, then the abort listener: a render process ignores an abort that comes
      // before its render (there is nothing to abort yet), then would run the render anyway.
      proc.send({ type: 'render', kind, input, tmpDir, resume: hooks.resume });
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      detach = () => {
        child.off('message', onMessage);
        hooks.signal.removeEventListener('abort', onAbort);
      };
    });
  } finally {
    detach();
    if (graceTimer) clearTimeout(graceTimer);
    for (const ws of outputs.values()) if (!ws.writableEnded) ws.destroy(new Error('render ended without closing this output'));
    for (const src of sources.values()) src.destroy();
    pool.release(proc);
  }
}
