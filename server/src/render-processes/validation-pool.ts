import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { AssetMetadata } from '@kiln/shared';
import { INSPECT_UPLOAD_KIND, type InspectUploadInput } from '@kiln/renderers';
import type { FromRenderProcess, SerializedRenderError } from './render-protocol.js';
import { createProcessPool, type ProcessPool } from './process-pool.js';
import { processCpuMs } from './process-cpu.js';
import { RenderFailure, runInPool } from './render-pool.js';

/** How long checking one uploaded file may take: files are larger than inputs, the work linear in them. */
export const UPLOAD_INSPECTION_BUDGET_MS = 30_000;

export interface ValidationPoolOptions {
  size: number;
  rendererModules?: string[];
  memoryLimitMb: number;
  /**
   * CPU time a check may use; past it the check is abandoned (its process killed) and the input
   * refused as too complex. A check that gets too little CPU to finish within wallBackstopMs of
   * this is abandoned too, answered busy.
   */
  timeBudgetMs: number;
  /** Past this waiting for a free process, the request is refused as busy (503). */
  queueTimeoutMs: number;
}

/** How long a validation process may take to parse an input and load its kind's code before checking starts. */
const LOAD_ALLOWANCE_MS = 30_000;

/** How often a running check's CPU time is read (a /proc read, microseconds). */
const CPU_METER_INTERVAL_MS = 50;

/** Wall-clock bound of a check whose CPU budget is `budgetMs`: four times it, and at least 5 s more. */
export const wallBackstopMs = (budgetMs: number) => Math.max(4 * budgetMs, budgetMs + 5000);

export type ValidationOutcome =
  | { ok: true; assetRefs: string[] }
  | { ok: false; error: SerializedRenderError }
  | { ok: false; busy: true };

/**
 * Checks that must parse or compile user content — SVG structure, Markdown, Vega-Lite — run here,
 * in render processes, never on the API's event loop: a 14 KB chart spec that takes Vega 20 s to
 * compile then costs one request its answer (400, too complex) and every other request nothing.
 */
export function createValidationPool(options: ValidationPoolOptions) {
  const pool = createProcessPool({ size: options.size, rendererModules: options.rendererModules ?? [], memoryLimitMb: options.memoryLimitMb });
  let nextReqId = 1;

  /** A checker within `ms`, or null when every one stayed busy that long. */
  function acquireWithin(ms: number) {
    return pool.acquire(AbortSignal.timeout(ms)).catch((err: unknown) => {
      if ((err as Error)?.name === 'TimeoutError') return null;
      throw err;
    });
  }

  async function validate(kind: string, input: unknown): Promise<ValidationOutcome> {
    const proc = await acquireWithin(options.queueTimeoutMs);
    if (!proc) return { ok: false, busy: true };
    const reqId = nextReqId++;
    let timer: NodeJS.Timeout | undefined;
    let meter: NodeJS.Timeout | undefined;
    // Set once this request is over: the process may already be checking someone else's input.
    let over = false;
    let onMessage: (m: FromRenderProcess) => void = () => {};
    try {
      return await new Promise<ValidationOutcome>((resolve) => {
        const budget = options.timeBudgetMs;
        const giveUp = (why: string, outcome: ValidationOutcome) => {
          if (over) return;
          proc.kill(why);
          resolve(outcome);
        };
        // The budget is the checking process's CPU time, not the clock's: on a machine busy with
        // renders a check may wait for a core, and that is no fault of the input. The clock still
        // bounds it (a check starved that long answers busy, to be retried, not "too complex").
        const startBudget = async () => {
          clearTimeout(timer);
          const startedAt = Date.now();
          const cpuAtStart = proc.child.pid === undefined ? null : await processCpuMs(proc.child.pid);
          const used = async () => {
            const cpu = cpuAtStart === null ? null : await processCpuMs(proc.child.pid!);
            return cpu === null ? Date.now() - startedAt : cpu - cpuAtStart!;
          };
          const check = async () => {
            if (over) return;
            if (Date.now() - startedAt > wallBackstopMs(budget)) {
              return giveUp('was starved of CPU past the validation deadline', { ok: false, busy: true });
            }
            if ((await used()) > budget) {
              return giveUp(`used more than the ${budget} ms validation budget`, refused(`The input is too complex: checking it took more than ${budget} ms of CPU time. Simplify it or split it into smaller jobs.`));
            }
            if (!over) meter = setTimeout(() => void check(), CPU_METER_INTERVAL_MS);
          };
          if (over) return;
          meter = setTimeout(() => void check(), Math.min(budget, CPU_METER_INTERVAL_MS));
        };
        onMessage = (m) => {
          if (m.type === 'checking' && m.reqId === reqId) void startBudget();
          else if (m.type === 'validated' && m.reqId === reqId) resolve({ ok: true, assetRefs: m.assetRefs });
          else if (m.type === 'invalid' && m.reqId === reqId) resolve({ ok: false, error: m.error });
        };
        proc.child.on('message', onMessage);
        // Until the check starts, the process parses the input and loads the kind's code: bounded
        // generously (a parse of a 5 MB body, a cold start of vega), then the budget proper.
        timer = setTimeout(
          () => giveUp('took too long to load the renderer or parse the input', refused(`The input is too complex: it could not even be read within ${LOAD_ALLOWANCE_MS / 1000} s.`)),
          LOAD_ALLOWANCE_MS,
        );
        void proc.exited.then((how) => resolve(refused(`The input could not be checked: the checking process ${how}. Simplify it or split it into smaller jobs.`)));
        proc.send({ type: 'validate', reqId, kind, input });
      });
    } finally {
      over = true;
      clearTimeout(timer);
      clearTimeout(meter);
      proc.child.off('message', onMessage);
      pool.release(proc);
    }
  }

  /**
   * Reads an uploaded file (through `open`, streamed over IPC) as what it claims to be, in a
   * validation process: text parses, images decode within the raster caps. Resolves with what it
   * learned (image size, rows), or with the refusal.
   */
  async function inspectUpload(
    input: Omit<InspectUploadInput, 'assetId'>,
    open: () => Promise<{ stream: Readable; byteSize: number }>,
  ): Promise<{ ok: true; metadata: AssetMetadata } | { ok: false; error: SerializedRenderError } | { ok: false; busy: true }> {
    // Waiting for a checker is not checking: a busy pool answers busy (503), and the inspection
    // budget starts once a checker is ours.
    const scratch = await mkdtemp(path.join(tmpdir(), 'kiln-inspect-'));
    try {
      const proc = await acquireWithin(options.queueTimeoutMs);
      if (!proc) return { ok: false, busy: true };
      const handOver: ProcessPool = { ...pool, acquire: async () => proc };
      const result = await runInPool(handOver, INSPECT_UPLOAD_KIND, { ...input, assetId: 'upload' }, scratch, {
        signal: AbortSignal.timeout(UPLOAD_INSPECTION_BUDGET_MS),
        progress: () => undefined,
        log: () => undefined,
        warn: () => undefined,
        openOutput: () => {
          throw new Error('an inspection writes no output');
        },
        checkpoint: async () => undefined,
        readAsset: async () => {
          const { stream, byteSize } = await open();
          return { id: 'upload', contentType: input.contentType, byteSize, metadata: {}, stream };
        },
      });
      return { ok: true, metadata: result?.metadata?.primary ?? {} };
    } catch (err) {
      if (err instanceof RenderFailure) {
        if (err.error.aborted || err.error.code === 'aborted') {
          return refused(`The file could not be checked within ${UPLOAD_INSPECTION_BUDGET_MS / 1000} s; it is too complex.`) as { ok: false; error: SerializedRenderError };
        }
        if (err.error.code === 'render_crashed') {
          return refused(`The file could not be checked: ${err.error.message}`) as {
            ok: false;
            error: SerializedRenderError;
          };
        }
        return { ok: false, error: err.error };
      }
      throw err;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  return { validate, inspectUpload, warm: () => pool.warm(), close: () => pool.close(), ready: () => pool.readyCount() > 0 };
}

function refused(message: string): ValidationOutcome {
  return { ok: false, error: { code: 'validation_failed', message, retryable: false, aborted: false } };
}

export type ValidationPool = ReturnType<typeof createValidationPool>;
