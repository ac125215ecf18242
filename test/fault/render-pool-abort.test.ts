import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRenderPool, type RenderHooks } from '../../server/src/render-processes/render-pool.js';

/**
 * Found by the fault suite's SIGTERM scenario (e): a job aborted *before* its render reached a
 * render process was not stopped. Both tests reproduce it on a real render pool (real child
 * processes, the fault-probe kind writing a ledger).
 */
const FAULT_RENDERERS = pathToFileURL(fileURLToPath(new URL('../harness/fault-renderers.ts', import.meta.url))).href;
const SLOW_LOADING = pathToFileURL(fileURLToPath(new URL('../harness/slow-loading-renderers.ts', import.meta.url))).href;

let dir: string;
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  rmSync(dir, { recursive: true, force: true });
});

function setup(modules: string[]) {
  dir = mkdtempSync(path.join(tmpdir(), 'kiln-render-abort-'));
  const pool = createRenderPool({ size: 1, rendererModules: modules, memoryLimitMb: 1024 });
  closers.push(() => pool.close());
  const ledger = path.join(dir, 'ledger.jsonl');
  const hooks = (signal: AbortSignal): RenderHooks => ({
    signal,
    progress: () => undefined,
    log: () => undefined,
    warn: () => undefined,
    checkpoint: async () => undefined,
    openOutput: () => new Writable({ write: (_c, _e, cb) => cb() }),
    readAsset: () => Promise.reject(new Error('no assets here')),
  });
  const renders = () => (existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { pool, ledger, hooks, renders };
}

describe('render pool: a job aborted before its render is dispatched', () => {
  // Was: the abort was sent before the render, ignored by the idle process, which then rendered
  // anyway and was SIGKILLed 1.5 s later.
  it('does not start the render at all', async () => {
    const { pool, ledger, hooks, renders } = setup([FAULT_RENDERERS]);
    await pool.warm();
    const aborted = AbortSignal.abort(new Error('canceled before dispatch'));
    const outcome = await pool
      .run('fault-probe', { token: 'pre-aborted', ledger, ms: 3000, steps: 3 }, dir, hooks(aborted))
      .then(() => 'resolved', (err: Error) => err.message);
    expect(outcome).not.toBe('resolved');
    expect(renders().filter((r) => r.what === 'start')).toEqual([]);
  }, 60_000);

  // Was: acquire() did not take the job's signal, so a job canceled while render processes were
  // loading waited for one (SIGTERM with a 5 s grace once took 27.6 s to exit).
  it('gives up waiting for a render process as soon as the job is aborted', async () => {
    const { pool, ledger, hooks } = setup([FAULT_RENDERERS, SLOW_LOADING]);
    const controller = new AbortController();
    let settledAt = 0;
    const run = pool
      .run('fault-probe', { token: 'waiting', ledger, ms: 100, steps: 1 }, dir, hooks(controller.signal))
      .then(() => undefined, () => undefined)
      .finally(() => (settledAt = performance.now()));
    setTimeout(() => controller.abort(new Error('canceled while waiting')), 200);
    // warm() resolves when the process the run is waiting for has loaded its renderers.
    const readyAt = await pool.warm().then(() => performance.now());
    await run;
    expect(settledAt).toBeLessThan(readyAt);
  }, 60_000);
});
