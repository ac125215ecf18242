import { CHANNELS, JOB_COLUMNS, type JobRow, type Queryable } from './job-row.js';
import { transitionJob } from './job-lifecycle.js';

/**
 * The queue protocol over `content_jobs` (ARCHITECTURE "Queue and workers"): claim, heartbeat,
 * reap. Every statement of it lives in this file.
 */

/** Serialises claims so each company's running count is exact while slots are handed out. */
const CLAIM_LOCK_KEY = 7_412_002;
/** Class id of the session advisory locks that tell live workers from dead ones. */
export const WORKER_LOCK_CLASS = 7_412_003;
/** A running job whose heartbeat is older than this is presumed lost (its machine vanished). */
export const LEASE_SECONDS = 10;

export interface TransactionRunner {
  /** Runs `fn` inside BEGIN/COMMIT on one connection. */
  inTransaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
}

/**
 * Claims up to `limit` queued jobs whose run_at has come, best priority first, never taking a
 * company past its max_concurrent_jobs. Each claimed job gets its `content_job.running` event.
 */
export async function claimJobs(tx: TransactionRunner, workerId: string, limit: number): Promise<JobRow[]> {
  if (limit <= 0) return [];
  return tx.inTransaction(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK_KEY]);
    const { rows } = await q.query<JobRow>(
      `WITH busy AS (
         SELECT company_id, count(*)::int AS n FROM content_jobs WHERE status = 'running' GROUP BY company_id
       ), open_companies AS (
         SELECT c.id, c.max_concurrent_jobs - coalesce(b.n, 0) AS free
         FROM companies c LEFT JOIN busy b ON b.company_id = c.id
         WHERE c.max_concurrent_jobs > coalesce(b.n, 0)
       ), candidates AS (
         SELECT j.id, j.company_id, j.priority, j.run_at FROM content_jobs j
         WHERE j.status = 'queued' AND j.run_at <= now() AND j.cancel_requested_at IS NULL
           AND j.company_id IN (SELECT id FROM open_companies)
         ORDER BY j.priority DESC, j.run_at, j.id
         LIMIT $2 * 8
         FOR UPDATE SKIP LOCKED
       ), ranked AS (
         SELECT c.id, c.priority, c.run_at,
                row_number() OVER (PARTITION BY c.company_id ORDER BY c.priority DESC, c.run_at, c.id) AS rank,
                o.free
         FROM candidates c JOIN open_companies o ON o.id = c.company_id
       ), chosen AS (
         SELECT id FROM ranked WHERE rank <= free ORDER BY priority DESC, run_at, id LIMIT $2
       ), u AS (
         UPDATE content_jobs j
         SET status = 'running', locked_by = $1, heartbeat_at = now(), attempt = j.attempt + 1,
             started_at = coalesce(j.started_at, now()), progress = 0, stage = NULL, updated_at = now()
         FROM chosen WHERE j.id = chosen.id
         RETURNING ${JOB_COLUMNS}
       ), ev AS (
         INSERT INTO content_job_events (company_id, job_id, type, payload)
         SELECT u."companyId", u.id, 'content_job.running',
                jsonb_build_object('jobId', u.id, 'status', u.status, 'attempt', u.attempt, 'progress', 0)
         FROM u RETURNING id, company_id, job_id
       )
       SELECT u.*, pg_notify('${CHANNELS.events}', ev.id || ',' || ev.company_id || ',' || ev.job_id) AS notified
       FROM u JOIN ev ON ev.job_id = u.id
       ORDER BY u.priority DESC, u."runAt", u.id`,
      [workerId, limit],
    );
    return rows.map(({ notified: _n, ...job }: JobRow & { notified?: unknown }) => job as JobRow);
  });
}

export interface HeartbeatResult {
  /** Jobs this worker still owns. */
  owned: Set<string>;
  /** Of those, the ones whose cancellation was requested. */
  cancelRequested: Set<string>;
}

/** One query per worker process: extends the lease of all its jobs and reports cancellations. */
export async function heartbeat(q: Queryable, workerId: string): Promise<HeartbeatResult> {
  const { rows } = await q.query<{ id: string; cancel: boolean }>(
    `UPDATE content_jobs SET heartbeat_at = now()
     WHERE locked_by = $1 AND status = 'running'
     RETURNING id, cancel_requested_at IS NOT NULL AS cancel`,
    [workerId],
  );
  return {
    owned: new Set(rows.map((r) => r.id)),
    cancelRequested: new Set(rows.filter((r) => r.cancel).map((r) => r.id)),
  };
}

/** Worker ids look like `w<lockKey>@<host>:<pid>`; the lock key is what the reaper probes. */
export function workerLockKey(workerId: string): number | null {
  const m = /^w(\d+)@/.exec(workerId);
  return m ? Number(m[1]) : null;
}

interface LostJob {
  id: string;
  lockedBy: string;
  attempt: number;
  maxAttempts: number;
  cancelRequested: boolean;
}

/**
 * Finds running jobs whose worker is gone and gives them back to the queue (or fails them with
 * `worker_lost` when their attempts are used up). A worker is gone when its session advisory
 * lock can be taken — PostgreSQL drops it the moment the worker's connection dies, which makes
 * recovery from a SIGKILL take about one reaper tick — or when its heartbeat lease lapsed, which
 * covers a machine that vanished with its TCP connection half-open. Safe to run in every worker
 * at once: each transition is guarded by `status = 'running' AND locked_by`.
 */
export async function reapLostJobs(tx: TransactionRunner, q: Queryable, selfId: string): Promise<number> {
  const { rows } = await q.query<LostJob & { leaseExpired: boolean }>(
    `SELECT id, locked_by AS "lockedBy", attempt, max_attempts AS "maxAttempts",
            cancel_requested_at IS NOT NULL AS "cancelRequested",
            heartbeat_at < now() - make_interval(secs => $2) AS "leaseExpired"
     FROM content_jobs WHERE status = 'running' AND locked_by IS DISTINCT FROM $1`,
    [selfId, LEASE_SECONDS],
  );
  if (rows.length === 0) return 0;
  const byWorker = new Map<string, typeof rows>();
  for (const r of rows) byWorker.set(r.lockedBy, [...(byWorker.get(r.lockedBy) ?? []), r]);

  let reaped = 0;
  for (const [workerId, jobs] of byWorker) {
    const key = workerLockKey(workerId);
    const n = await tx.inTransaction(async (tq) => {
      let dead = jobs.every((j) => j.leaseExpired);
      if (!dead && key !== null) {
        // Taking the lock succeeds only when no session holds it; the xact lock ends at COMMIT.
        const { rows: probe } = await tq.query<{ free: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS free', [
          WORKER_LOCK_CLASS,
          key,
        ]);
        dead = probe[0]!.free;
      }
      if (!dead) return 0;
      let count = 0;
      for (const job of jobs) if (await releaseLostJob(tq, job)) count++;
      return count;
    });
    reaped += n;
  }
  return reaped;
}

/**
 * Gives back this worker's own running jobs that no runner here is working on (see the worker's
 * heartbeat), exactly as the reaper treats a dead worker's jobs.
 */
export async function releaseOrphanedJobs(q: Queryable, workerId: string, jobIds: string[]): Promise<number> {
  const { rows } = await q.query<LostJob>(
    `SELECT id, locked_by AS "lockedBy", attempt, max_attempts AS "maxAttempts",
            cancel_requested_at IS NOT NULL AS "cancelRequested"
     FROM content_jobs WHERE id = ANY($1::uuid[]) AND status = 'running' AND locked_by = $2`,
    [jobIds, workerId],
  );
  let released = 0;
  for (const job of rows) if (await releaseLostJob(q, job)) released++;
  return released;
}

async function releaseLostJob(q: Queryable, job: LostJob): Promise<boolean> {
  const error = { code: 'worker_lost', message: 'The worker running this job stopped before it finished.' };
  if (job.cancelRequested) {
    return !!(await transitionJob(q, {
      jobId: job.id, from: 'running', to: 'canceled', lockedBy: job.lockedBy,
      fields: { errorCode: 'canceled', errorMessage: 'Canceled on request.' },
      event: { type: 'content_job.canceled', payload: {} },
    }));
  }
  if (job.attempt < job.maxAttempts) {
    return !!(await transitionJob(q, {
      jobId: job.id, from: 'running', to: 'queued', lockedBy: job.lockedBy,
      fields: { errorCode: error.code, errorMessage: error.message, retryDelayMs: 0 },
      event: { type: 'content_job.retrying', payload: { error } },
    }));
  }
  return !!(await transitionJob(q, {
    jobId: job.id, from: 'running', to: 'failed', lockedBy: job.lockedBy,
    fields: { errorCode: error.code, errorMessage: error.message },
    event: { type: 'content_job.failed', payload: { error } },
  }));
}
