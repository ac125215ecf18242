import type { JobRow, Queryable } from '../services/jobs/job-row.js';
import { transitionJob } from '../services/jobs/job-lifecycle.js';

/** Largest checkpoint JSON a renderer may store on its job. */
const MAX_CHECKPOINT_BYTES = 64 * 1024;
/** Progress is written at most this often per job (the last report before a pause always lands). */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Coalesces progress reports: renderers may report hundreds per second (ffmpeg), but a progress
 * row + event is a database commit, worth making a few times a second at most. The clock starts
 * with the job, so a job that finishes within the first interval writes no progress at all —
 * its `running` and `done` events say everything. Writes are serialized so events never arrive
 * out of order; a write that fails (database briefly away) is dropped, the next one carries on.
 */
export function createProgressWriter(deps: { pool: Queryable; workerId: string }, job: Pick<JobRow, 'id'>) {
  let latest: { fraction: number; stage: string } | null = null;
  let lastWrite = Date.now();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const write = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const p = latest;
    latest = null;
    if (!p) return chain;
    lastWrite = Date.now();
    chain = chain
      .then(() =>
        transitionJob(deps.pool, {
          jobId: job.id, from: 'running', to: 'running', lockedBy: deps.workerId,
          fields: { progress: p.fraction, stage: p.stage },
          event: { type: 'content_job.progress', payload: {} },
        }),
      )
      .then(() => undefined, () => undefined);
    return chain;
  };

  return {
    /**
     * Stores the renderer's checkpoint with a progress event, in order with the other progress
     * writes, and resolves once it is committed (a renderer checkpoints before it relies on it).
     */
    checkpoint(state: unknown): Promise<void> {
      const json = JSON.stringify(state ?? null);
      if (json.length > MAX_CHECKPOINT_BYTES) {
        return Promise.reject(new Error(`a checkpoint may be at most ${MAX_CHECKPOINT_BYTES} bytes of JSON (got ${json.length})`));
      }
      const written = chain.then(async () => {
        const r = await transitionJob(deps.pool, {
          jobId: job.id, from: 'running', to: 'running', lockedBy: deps.workerId,
          fields: { checkpoint: JSON.parse(json) },
          event: { type: 'content_job.progress', payload: { checkpoint: true } },
        });
        if (!r) throw new Error('the job is no longer this worker\'s; checkpoint not stored');
      });
      chain = written.then(() => undefined, () => undefined);
      return written;
    },
    report(fraction: number, stage: string) {
      if (!Number.isFinite(fraction)) return;
      latest = { fraction: Math.min(1, Math.max(0, fraction)), stage: String(stage).slice(0, 100) };
      if (Date.now() - lastWrite >= PROGRESS_INTERVAL_MS) void write();
      else if (!timer) timer = setTimeout(() => void write(), PROGRESS_INTERVAL_MS);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      // The final report is folded into the terminal transition; drop it, wait for in-flight ones.
      latest = null;
      await chain;
    },
  };
}
