import type { FromRenderProcess } from './render-protocol.js';
import { startRenderProcess, type RenderProcess, type RenderProcessOptions } from './render-process-handle.js';

export interface ProcessPool {
  /**
   * A ready process for one task, exclusively the caller's until `release`. Waits while all are
   * busy; never returns a process that has been killed or is on its way out.
   */
  acquire(signal?: AbortSignal): Promise<RenderProcess>;
  release(p: RenderProcess): void;
  /** Starts every process now rather than on first use (each loads all renderers: ~1 s). */
  warm(): Promise<void>;
  /** Asks each process to close its renderers (3 s at most), then kills it. */
  close(): Promise<void>;
  /** Processes alive now (busy or idle). */
  size(): number;
  /** Processes that have loaded and can take work (what readiness reports). */
  readyCount(): number;
}

const CLOSE_GRACE_MS = 3000;

/** `promise`, or a rejection with the signal's reason as soon as it fires. */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A fixed number of prewarmed render processes. A process that dies — crashed, killed by its
 * memory watchdog, or killed because it ignored an abort — is replaced at once, so the next task
 * finds a warm one; a process that dies before it ever became ready is not (a broken install
 * would otherwise respawn in a loop), the next `acquire` starts one on demand instead.
 */
export function createProcessPool(options: RenderProcessOptions & { size: number }): ProcessPool {
  const live = new Set<RenderProcess>();
  const ready = new Set<RenderProcess>();
  const idle: RenderProcess[] = [];
  const waiters: (() => void)[] = [];
  let closed = false;

  function spawn(): RenderProcess {
    const p = startRenderProcess(options);
    live.add(p);
    let becameReady = false;
    p.ready.then(
      () => {
        becameReady = true;
        if (p.alive) ready.add(p);
      },
      () => undefined,
    );
    void p.exited.then(() => {
      live.delete(p);
      ready.delete(p);
      const i = idle.indexOf(p);
      if (i >= 0) idle.splice(i, 1);
      if (!closed && becameReady && live.size < options.size) idle.push(spawn());
      waiters.shift()?.();
    });
    return p;
  }

  const pool: ProcessPool = {
    async acquire(signal) {
      for (;;) {
        if (closed) throw new Error('render process pool closed');
        if (signal?.aborted) throw signal.reason;
        let p: RenderProcess | undefined;
        while ((p = idle.shift()) && !p.alive);
        if (!p && live.size < options.size) p = spawn();
        if (p) {
          await untilAborted(p.ready, signal).catch((err) => {
            // Not ours after all: the next caller gets it once it is ready.
            if (signal?.aborted && p!.alive) void p!.ready.then(() => pool.release(p!), () => undefined);
            throw err;
          });
          if (p.alive) return p;
          continue;
        }
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => waiters.push((wake = resolve)));
        await untilAborted(woken, signal).catch((err) => {
          const i = waiters.indexOf(wake);
          if (i >= 0) waiters.splice(i, 1);
          throw err;
        });
      }
    },
    release(p) {
      if (p.alive && !closed) idle.push(p);
      waiters.shift()?.();
    },
    async warm() {
      while (live.size < options.size) idle.push(spawn());
      await Promise.all([...live].map((p) => p.ready));
    },
    async close() {
      closed = true;
      for (const w of waiters.splice(0)) w();
      await Promise.all(
        [...live].map(async (p) => {
          const closedOrTimeout = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, CLOSE_GRACE_MS);
            p.child.on('message', (m: FromRenderProcess) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                resolve();
              }
            });
            void p.exited.then(() => {
              clearTimeout(timer);
              resolve();
            });
          });
          p.send({ type: 'shutdown' });
          await closedOrTimeout;
          p.kill('pool closed');
          await p.exited;
        }),
      );
    },
    size: () => live.size,
    readyCount: () => [...ready].filter((p) => p.alive).length,
  };
  return pool;
}
