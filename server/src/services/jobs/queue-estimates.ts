import { cachedRead } from '../../db/cached-read.js';
import type { Queryable } from './job-row.js';
import { findJobsAhead, recentJobDurations, type JobsAhead, type KindDuration } from './queue-stats-store.js';

/** Jobs ahead are counted up to this many; a job further back shows this number. */
export const QUEUE_POSITION_LIMIT = 10_000;
/** Recent history the start estimate learns durations from. */
const DURATION_WINDOW_MINUTES = 10;
const DURATION_SAMPLE = 1000;
const DURATION_CACHE_MS = 5000;

export interface QueueEstimate {
  queuePosition: number;
  /** ISO time, or null when no job ended recently (nothing to learn durations from). */
  estimatedStartAt: string | null;
}

/**
 * Where a queued job stands, from what `findJobsAhead` read:
 *
 * **Position** — the jobs a claim takes before it. Its own company's jobs ahead all count (a
 * claim takes a company's jobs in order). Another company's jobs count only while that company
 * can run them: at most its free slots (`max_concurrent_jobs` − running), because once those are
 * taken the rest wait for that company's own jobs to end, and the claim hands the next free
 * worker slot to this job instead. A company at its limit adds nothing.
 *
 * **Start** — the job starts once `position + 1` running jobs have ended (it needs a free slot
 * after those ahead took theirs). Jobs end at about `slots / mean duration` per second, where the
 * slots are the jobs running now (while a queue waits, workers are busy; at least 1) and the mean
 * duration is that of the kinds ahead, weighted by how many of each, learned from jobs that ended
 * in the last few minutes (a kind with no recent history counts as the overall mean). What counts
 * is how long the jobs *ahead* take, not the job's own kind. Never before the job's own `run_at`.
 */
export function estimateQueue(ahead: JobsAhead, durations: KindDuration[], now: number): QueueEstimate {
  const companies = new Map<string, { n: number; maxConcurrent: number; running: number; kinds: Map<string, number> }>();
  for (const g of ahead.groups) {
    const c = companies.get(g.companyId) ?? { n: 0, maxConcurrent: g.maxConcurrent, running: g.running, kinds: new Map() };
    c.n += g.n;
    c.kinds.set(g.kind, (c.kinds.get(g.kind) ?? 0) + g.n);
    companies.set(g.companyId, c);
  }
  let position = 0;
  const weightByKind = new Map<string, number>();
  for (const [companyId, c] of companies) {
    const counted = companyId === ahead.companyId ? c.n : Math.min(c.n, Math.max(0, c.maxConcurrent - c.running));
    position += counted;
    for (const [kind, n] of c.kinds) weightByKind.set(kind, (weightByKind.get(kind) ?? 0) + (n * counted) / c.n);
  }

  const sampled = durations.reduce((sum, d) => sum + d.n, 0);
  if (sampled === 0) return { queuePosition: position, estimatedStartAt: null };
  const overallMean = durations.reduce((sum, d) => sum + d.n * d.meanSeconds, 0) / sampled;
  const meanOf = new Map(durations.map((d) => [d.kind, d.meanSeconds]));
  let work = overallMean; // the running job whose end frees this job's slot
  for (const [kind, weight] of weightByKind) work += weight * (meanOf.get(kind) ?? overallMean);
  const waitMs = (work / Math.max(1, ahead.runningTotal)) * 1000;
  const start = Math.max(ahead.runAt.getTime(), now + waitMs);
  return { queuePosition: position, estimatedStartAt: new Date(Math.ceil(start)).toISOString() };
}

/**
 * Position and start estimate of queued jobs, computed when one is read (never on submit or
 * claim). One bounded query per read; the duration history is shared by every read of the
 * process and refreshed at most every few seconds.
 */
export function queueEstimator(pool: Queryable, o: { positionLimit?: number } = {}) {
  const durations = cachedRead(
    () => recentJobDurations(pool, { windowMinutes: DURATION_WINDOW_MINUTES, sample: DURATION_SAMPLE }),
    DURATION_CACHE_MS,
  );
  return {
    /** Null when the job is not queued (any more). */
    async estimate(jobId: string): Promise<QueueEstimate | null> {
      const [ahead, history] = await Promise.all([findJobsAhead(pool, jobId, o.positionLimit ?? QUEUE_POSITION_LIMIT), durations()]);
      return ahead ? estimateQueue(ahead, history, Date.now()) : null;
    },
  };
}

export type QueueEstimator = ReturnType<typeof queueEstimator>;
