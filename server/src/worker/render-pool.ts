import { Worker } from 'node:worker_threads';
import type { Readable, Writable } from 'node:stream';
import type { InputAsset, OutputOptions, RenderResult } from '@kiln/renderers';
import type { FromThread, SerializedRenderError, ToThread } from './render-protocol.js';
// sharp must be loaded by the main thread before any worker thread loads it, or unloading a
// thread can take the shared library down with it (sharp's documented worker-thread caveat).
import 'sharp';

export interface RenderHooks {
  signal: AbortSignal;
  progress(fraction: number, stage: string): void;
  log(line: string): void;
  openOutput(options: OutputOptions): Writable;
  readAsset(assetId: string): Promise<InputAsset>;
}

export class RenderFailure extends Error {
  constructor(public readonly error: SerializedRenderError) {
    super(error.message);
    this.name = 'RenderFailure';
  }
}

/** How long an aborted render may take to wind down before its thread is terminated. */
const ABORT_GRACE_MS = 1500;

interface PooledThread {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  dead: boolean;
}

/**
 * A fixed set of render threads (one job each at a time). A thread that ignores an abort is
 * terminated and replaced, so a cancel or timeout always ends the job promptly even when a
 * renderer is stuck in synchronous code.
 */
export function createRenderPool(options: { size: number; rendererModules?: string[] }) {
  const threads: PooledThread[] = [];
  const waiters: ((t: PooledThread) => void)[] = [];
  let closed = false;

  function spawn(): PooledThread {
    const worker = new Worker(new URL('./render-thread-entry.mjs', import.meta.url), {
      workerData: { rendererModules: options.rendererModules ?? [] },
    });
    const t: PooledThread = {
      worker,
      busy: false,
      dead: false,
      ready: new Promise((resolve, reject) => {
        const onMessage = (m: FromThread) => {
          if (m.type === 'ready') {
            worker.off('message', onMessage);
            resolve();
          }
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      }),
    };
    worker.on('exit', () => {
      t.dead = true;
      const i = threads.indexOf(t);
      if (i >= 0) threads.splice(i, 1);
    });
    worker.on('error', () => {
      t.dead = true;
    });
    threads.push(t);
    return t;
  }

  async function acquire(): Promise<PooledThread> {
    const idle = threads.find((t) => !t.busy && !t.dead);
    const t = idle ?? (threads.length < options.size ? spawn() : await new Promise<PooledThread>((r) => waiters.push(r)));
    t.busy = true;
    await t.ready;
    return t;
  }

  function release(t: PooledThread) {
    t.busy = false;
    if (t.dead) {
      const next = waiters.shift();
      if (next && !closed) {
        const fresh = spawn();
        fresh.busy = true;
        next(fresh);
      }
      return;
    }
    const next = waiters.shift();
    if (next) {
      t.busy = true;
      next(t);
    }
  }

  async function run(kind: string, input: unknown, tmpDir: string, hooks: RenderHooks): Promise<RenderResult | null> {
    if (closed) throw new Error('render pool closed');
    const thread = await acquire();
    const { worker } = thread;
    const send = (msg: ToThread, transfer?: ArrayBuffer[]) => worker.postMessage(msg, transfer ?? []);
    const outputs = new Map<number, Writable>();
    const sources = new Map<number, Readable>();
    let graceTimer: NodeJS.Timeout | null = null;
    let detach = () => {};

    try {
      return await new Promise<RenderResult | null>((resolve, reject) => {
        const onAbort = () => {
          send({ type: 'abort', reason: String((hooks.signal.reason as Error)?.message ?? 'aborted') });
          graceTimer = setTimeout(() => {
            void worker.terminate();
            reject(new RenderFailure({ code: 'aborted', message: 'render thread did not stop; terminated', retryable: false, aborted: true }));
          }, ABORT_GRACE_MS);
        };
        const onExit = (code: number) =>
          reject(new RenderFailure({ code: 'render_failed', message: `render thread exited (${code})`, retryable: true, aborted: hooks.signal.aborted }));
        const onMessage = (m: FromThread) => {
          switch (m.type) {
            case 'progress':
              hooks.progress(m.fraction, m.stage);
              break;
            case 'log':
              hooks.log(m.line);
              break;
            case 'output-open': {
              const ws = hooks.openOutput(m.options);
              ws.on('error', (err) => send({ type: 'output-failed', streamId: m.streamId, message: err.message }));
              outputs.set(m.streamId, ws);
              break;
            }
            case 'output-chunk': {
              const ws = outputs.get(m.streamId);
              if (!ws || ws.destroyed) break;
              const bytes = m.chunk.byteLength;
              const ack = () => send({ type: 'output-ack', streamId: m.streamId, bytes });
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
                    const copy = new Uint8Array(chunk.byteLength);
                    copy.set(chunk);
                    send({ type: 'asset-chunk', reqId: m.reqId, chunk: copy }, [copy.buffer]);
                  });
                  src.on('end', () => send({ type: 'asset-end', reqId: m.reqId }));
                  src.on('error', (err) => send({ type: 'asset-error', reqId: m.reqId, code: 'render_failed', message: err.message }));
                  src.pause();
                  send({ type: 'asset-meta', reqId: m.reqId, id: asset.id, contentType: asset.contentType, byteSize: asset.byteSize, metadata: asset.metadata });
                },
                (err: Error & { code?: string }) =>
                  send({ type: 'asset-error', reqId: m.reqId, code: err.code ?? 'asset_not_found', message: err.message }),
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
        worker.on('message', onMessage);
        worker.once('exit', onExit);
        hooks.signal.addEventListener('abort', onAbort, { once: true });
        if (hooks.signal.aborted) onAbort();
        send({ type: 'render', kind, input, tmpDir });
        detach = () => {
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          hooks.signal.removeEventListener('abort', onAbort);
        };
      });
    } finally {
      detach();
      if (graceTimer) clearTimeout(graceTimer);
      for (const ws of outputs.values()) if (!ws.writableEnded) ws.destroy(new Error('render ended without closing this output'));
      for (const src of sources.values()) src.destroy();
      release(thread);
    }
  }

  return {
    run,
    /** Starts the threads now rather than on the first job (saves the first job ~0.4 s). */
    async warm() {
      while (threads.length < options.size) spawn();
      await Promise.all(threads.map((t) => t.ready));
    },
    /** Asks each thread to close its renderers (3 s at most), then ends it. */
    async close() {
      closed = true;
      await Promise.all(
        threads.map(async (t) => {
          if (!t.dead) {
            const closedOrTimeout = new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 3000);
              t.worker.on('message', (m: FromThread) => {
                if (m.type === 'closed') {
                  clearTimeout(timer);
                  resolve();
                }
              });
              t.worker.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
            });
            t.worker.postMessage({ type: 'shutdown' } satisfies ToThread);
            await closedOrTimeout;
          }
          await t.worker.terminate();
        }),
      );
    },
  };
}

export type RenderPool = ReturnType<typeof createRenderPool>;
