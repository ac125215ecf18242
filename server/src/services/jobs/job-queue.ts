import type { Queryable } from './job-row.js';
import { settleRunningJob, type TransactionRunner } from './job-lifecycle.js';

/**
 * The queue's liveness protocol over `content_jobs` (docs/architecture.md, "Queue and workers"):
 * heartbeats, and reaping the jobs of workers that are gone. Claims and transitions live in the
 * lifecycle module; every other statement of the protocol is in this file.
 */

/** Class id of the session advisory locks that tell live workers from dead ones. */
export const WORKER_LOCK_CLASS = 7_412_003;
/** A running job whose heartbeat is older than this is presumed lost (its machine vanished). */
export const LEASE_SECONDS = 10;
/**
 * A worker whose lock is free is presumed dead only once its last heartbeat is this old: a live
 * worker whose dedicated connection just dropped re-takes its lock and beats again well within
 * it (it beats every second), so a dropped connection does not get its jobs run twice.
 */
export const LOCK_FREE_GRACE_SECONDS = 2.5;

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

/** True when no session holds the worker's lock (taken at transaction level, so it ends at COMMIT). */
export async function workerLockIsFree(q: Queryable, lockKey: number): Promise<boolean> {
  const { rows } = await q.query<{ free: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS free', [WORKER_LOCK_CLASS, lockKey]);
  return rows[0]!.free;
}

/**
 * Finds running jobs whose worker is gone and settles them as `worker_lost` (back to the queue in
 * their old place, or failed when the decision table says so). A worker is gone when its session
 * advisory lock can be taken and it has missed a heartbeat — PostgreSQL drops the lock the moment
 * the worker's connection dies, so recovery from a SIGKILL takes a couple of seconds — or when
 * its heartbeat lease lapsed, which covers a machine that vanished with its TCP connection
 * half-open. Both clocks start no earlier than the database server did: after a PostgreSQL
 * restart every lock is gone and every heartbeat is old, and live workers need a moment to
 * reconnect before either sign means anything (see `lockMeaningful`). Safe to run in every worker at once.
 */
export async function reapLostJobs(tx: TransactionRunner, q: Queryable, selfId: string): Promise<number> {
  const { rows } = await q.query<{ id: string; lockedBy: string; silentSeconds: number; upSeconds: number }>(
    `SELECT id, locked_by AS "lockedBy",
            extract(epoch FROM now() - greatest(heartbeat_at, pg_postmaster_start_time()))::float8 AS "silentSeconds",
            extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS "upSeconds"
     FROM content_jobs WHERE status = 'running' AND locked_by IS DISTINCT FROM $1`,
    [selfId],
  );
  const suspects = rows.filter((r) => r.silentSeconds > LOCK_FREE_GRACE_SECONDS);
  if (suspects.length === 0) return 0;
  const byWorker = new Map<string, typeof suspects>();
  for (const r of suspects) byWorker.set(r.lockedBy, [...(byWorker.get(r.lockedBy) ?? []), r]);

  let reaped = 0;
  for (const [workerId, jobs] of byWorker) {
    const key = workerLockKey(workerId);
    reaped += await tx.inTransaction(async (tq) => {
      const leaseLapsed = jobs.every((j) => j.silentSeconds > LEASE_SECONDS);
      // Right after a restart a free lock only means "not reconnected yet" (workers retry every
      // two seconds at most); then only the lease speaks. The probe's transaction-level lock is
      // held until COMMIT, so the worker cannot come back and own these jobs while we settle them.
      const lockMeaningful = jobs[0]!.upSeconds > LEASE_SECONDS;
      const dead = leaseLapsed || (lockMeaningful && key !== null && (await workerLockIsFree(tq, key)));
      if (!dead) return 0;
      let count = 0;
      for (const job of jobs) if (await settleRunningJob(tq, job.id, workerId, { kind: 'worker_lost' })) count++;
      return count;
    });
  }
  return reaped;
}
