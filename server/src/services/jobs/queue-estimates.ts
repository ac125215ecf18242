import { cachedRead } from '../../db/cached-read.js';
import type { Queryable } from './job-row.js';
import {
  findJobsAhead, listQueueUpTo, readCompanySlots, recentJobDurations, type CompanySlots, type JobsAhead, type KindDuration, type QueueSegmentRow,
} from './queue-stats-store.js';

/** Jobs ahead are counted up to this many; a job further back shows this number. */
export const QUEUE_POSITION_LIMIT = 10_000;
/** Recent history the start estimate learns durations from. */
const DURATION_WINDOW_MINUTES = 10;
const DURATION_SAMPLE = 1000;
const DURATION_CACHE_MS = 5000;
/**
 * Following more jobs than this, a round folds the queue once (listQueueUpTo) instead of counting
 * ahead of each job: about 6× the cost of one count at the back of the queue, whatever the number
 * of jobs (bench/queue-position-cost.ts).
 */
const FOLD_FROM_FOLLOWED = 4;

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
 * What findJobsAhead reads, for every job asked about at once, from the queue's segments
 * (listQueueUpTo) and the companies' slots: the same counting, so a followed job's position
 * agrees with a read of it. A job missing from `rows` (not queued, or past the row limit) is
 * missing from the answer.
 */
export function jobsAheadInQueue(rows: QueueSegmentRow[], slots: { runningTotal: number; companies: CompanySlots[] }): Map<string, JobsAhead> {
  const slotsOf = new Map(slots.companies.map((c) => [c.companyId, c]));
  const counts = new Map<string, { companyId: string; kind: string; n: number }>();
  let counted = 0;
  const add = (companyId: string, kind: string, n: number) => {
    const key = `${companyId} ${kind}`;
    const c = counts.get(key) ?? { companyId, kind, n: 0 };
    c.n += n;
    counts.set(key, c);
    counted += n;
  };
  const found = new Map<string, JobsAhead>();
  for (const row of rows) {
    if (row.id === null) {
      add(row.companyId, row.kind, row.n);
      continue;
    }
    found.set(row.id, {
      companyId: row.companyId,
      runAt: row.runAt!,
      runningTotal: slots.runningTotal,
      counted,
      groups: [...counts.values()].map((g) => {
        const c = slotsOf.get(g.companyId) ?? { maxConcurrent: 0, running: 0 };
        return { ...g, maxConcurrent: c.maxConcurrent, running: c.running };
      }),
    });
    // Only a due job is taken before the ones behind it (a followed job in its backoff is not).
    if (row.due) add(row.companyId, row.kind, 1);
  }
  return found;
}

/**
 * Position and start estimate of queued jobs, computed when one is read (never on submit or
 * claim): one bounded query per read. The duration history is shared by every read of the
 * process and refreshed at most every few seconds.
 *
 * `follow` serves the SSE streams of queued jobs: however many streams follow however many jobs,
 * the process reads the queue once per round (every `roundMs`, while anyone follows) and tells
 * each listener its job's estimate, or null once the job is no longer queued. So the cost is one
 * bounded scan a second per API process, not one per stream.
 */
export function queueEstimator(pool: Queryable, o: { positionLimit?: number; roundMs?: number; onError?: (err: unknown) => void } = {}) {
  const limit = o.positionLimit ?? QUEUE_POSITION_LIMIT;
  const durations = cachedRead(
    () => recentJobDurations(pool, { windowMinutes: DURATION_WINDOW_MINUTES, sample: DURATION_SAMPLE }),
    DURATION_CACHE_MS,
  );
  type Listener = (estimate: QueueEstimate | null) => void;
  const listeners = new Map<string, Set<Listener>>();
  let round: NodeJS.Timeout | null = null;

  async function runRound() {
    const jobIds = [...listeners.keys()];
    try {
      const history = await durations();
      // A few jobs: a bounded count each is cheaper than folding the queue up to the last of them.
      let ahead = new Map<string, JobsAhead>();
      let complete = true;
      if (jobIds.length > FOLD_FROM_FOLLOWED) {
        const rows = await listQueueUpTo(pool, jobIds, limit);
        ahead = jobsAheadInQueue(rows, await readCompanySlots(pool, [...new Set(rows.map((r) => r.companyId))]));
        complete = rows.reduce((sum, r) => sum + r.n, 0) < limit;
      }
      const now = Date.now();
      for (const jobId of jobIds) {
        let a: JobsAhead | null | undefined = ahead.get(jobId);
        // Few jobs, or past the row limit of a very deep queue: counted on its own, as a read is.
        if (!a && (jobIds.length <= FOLD_FROM_FOLLOWED || !complete)) a = await findJobsAhead(pool, jobId, limit);
        const estimate = a ? estimateQueue(a, history, now) : null;
        for (const listener of listeners.get(jobId) ?? []) listener(estimate);
      }
    } catch (err) {
      o.onError?.(err);
    }
    round = null;
    scheduleRound();
  }
  function scheduleRound() {
    if (round || listeners.size === 0) return;
    round = setTimeout(() => void runRound(), o.roundMs ?? 1000);
    round.unref();
  }

  return {
    /** Null when the job is not queued (any more). */
    async estimate(jobId: string): Promise<QueueEstimate | null> {
      const [ahead, history] = await Promise.all([findJobsAhead(pool, jobId, limit), durations()]);
      return ahead ? estimateQueue(ahead, history, Date.now()) : null;
    },
    /**
     * Calls `listener` once a round (every second) with the job's estimate while it is followed;
     * returns the function that stops following.
     */
    follow(jobId: string, listener: Listener): () => void {
      let set = listeners.get(jobId);
      if (!set) listeners.set(jobId, (set = new Set()));
      set.add(listener);
      scheduleRound();
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(jobId) === set) listeners.delete(jobId);
      };
    },
  };
}

export type QueueEstimator = ReturnType<typeof queueEstimator>;
