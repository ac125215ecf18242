import type { FromRenderProcess, SerializedRenderError } from './render-protocol.js';
import { createProcessPool } from './process-pool.js';

export interface ValidationPoolOptions {
  size: number;
  rendererModules?: string[];
  memoryLimitMb: number;
  /** Past this a check is abandoned (its process killed) and the input refused as too complex. */
  timeBudgetMs: number;
  /** Past this waiting for a free process, the request is refused as busy (503). */
  queueTimeoutMs: number;
}

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

  async function acquireWithin(ms: number) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    const acquiring = pool.acquire();
    const p = await Promise.race([acquiring, timedOut]);
    clearTimeout(timer);
    // A process that arrives after we gave up goes straight back.
    if (!p) acquiring.then((late) => pool.release(late), () => undefined);
    return p;
  }

  async function validate(kind: string, input: unknown): Promise<ValidationOutcome> {
    const proc = await acquireWithin(options.queueTimeoutMs);
    if (!proc) return { ok: false, busy: true };
    const reqId = nextReqId++;
    let timer: NodeJS.Timeout | undefined;
    let onMessage: (m: FromRenderProcess) => void = () => {};
    try {
      return await new Promise<ValidationOutcome>((resolve) => {
        onMessage = (m) => {
          if (m.type === 'validated' && m.reqId === reqId) resolve({ ok: true, assetRefs: m.assetRefs });
          else if (m.type === 'invalid' && m.reqId === reqId) resolve({ ok: false, error: m.error });
        };
        proc.child.on('message', onMessage);
        timer = setTimeout(() => {
          proc.kill(`took longer than the ${options.timeBudgetMs} ms validation budget`);
          resolve(refused(`The input is too complex: checking it took longer than ${options.timeBudgetMs} ms. Simplify it or split it into smaller jobs.`));
        }, options.timeBudgetMs);
        void proc.exited.then((how) => resolve(refused(`The input could not be checked: the checking process ${how}. Simplify it or split it into smaller jobs.`)));
        proc.send({ type: 'validate', reqId, kind, input });
      });
    } finally {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      pool.release(proc);
    }
  }

  return { validate, warm: () => pool.warm(), close: () => pool.close() };
}

function refused(message: string): ValidationOutcome {
  return { ok: false, error: { code: 'validation_failed', message, retryable: false, aborted: false } };
}

export type ValidationPool = ReturnType<typeof createValidationPool>;
