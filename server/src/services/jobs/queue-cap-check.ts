import type { Queryable } from './job-row.js';

/** How old a company's known queued count may be before an insert asks for a fresh one. */
const REFRESH_MS = 1000;
/** Companies remembered per process; past it the memory starts over (each then counts once). */
const MAX_COMPANIES = 10_000;

/** Below this distance from the cap an insert counts the queue itself: max(100, a tenth of the cap). */
export const capHeadroom = (cap: number) => Math.max(100, Math.ceil(cap / 10));

interface Known {
  queued: number;
  cap: number;
  at: number;
  /** Jobs this process queued for the company since `queued` was read. */
  since: number;
}

/**
 * Decides whether an insert must count the company's queued jobs (`max_queued_jobs`) in its own
 * statement. That count reads the queue's partial index up to the cap — thousands of entries per
 * insert for a company with a long backlog, which made accepting a job cost more the more jobs
 * were waiting. Far from the cap it is unnecessary: each process keeps, per company, a queued
 * count at most a second old (read off the request path) plus what it has queued since, and only
 * within `capHeadroom` of the cap does an insert count exactly. Another process's inserts are not
 * seen until the next read, so a flood from several API processes can pass the cap by what they
 * queue in that second beyond the headroom — the cap was already soft under concurrency.
 */
export function createQueueCapCheck(deps: { pool: Queryable; now?: () => number; onError?: (err: unknown) => void }) {
  const now = deps.now ?? Date.now;
  const known = new Map<string, Known>();
  const refreshing = new Set<string>();

  async function refresh(companyId: string) {
    refreshing.add(companyId);
    try {
      const { rows } = await deps.pool.query<{ cap: number; queued: number }>(
        `SELECT c.max_queued_jobs AS cap,
                (SELECT count(*)::int FROM (SELECT 1 FROM content_jobs q WHERE q.company_id = c.id AND q.status = 'queued'
                                            LIMIT c.max_queued_jobs) n) AS queued
         FROM companies c WHERE c.id = $1`,
        [companyId],
      );
      if (known.size >= MAX_COMPANIES && !known.has(companyId)) known.clear();
      if (rows[0]) known.set(companyId, { queued: rows[0].queued, cap: rows[0].cap, at: now(), since: 0 });
      else known.delete(companyId);
    } catch (err) {
      deps.onError?.(err);
    } finally {
      refreshing.delete(companyId);
    }
  }

  return {
    /** True when the insert must count the queue itself (unknown, stale-and-close, or near the cap). */
    mustCount(companyId: string): boolean {
      const k = known.get(companyId);
      if (!k) return true;
      return k.queued + k.since + capHeadroom(k.cap) >= k.cap;
    },
    /** After an insert (or a queue_full answer): counts it, and reads the queue again when the count is old. */
    afterInsert(companyId: string, queued: boolean): void {
      const k = known.get(companyId);
      if (k && queued) k.since++;
      if (!refreshing.has(companyId) && (!k || now() - k.at > REFRESH_MS)) void refresh(companyId);
    },
    /** The cap changed (PATCH): forget what was known, so the next insert counts. */
    forget(companyId: string): void {
      known.delete(companyId);
    },
  };
}

export type QueueCapCheck = ReturnType<typeof createQueueCapCheck>;
