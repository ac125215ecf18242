import { heartbeat } from '../services/jobs/job-queue.js';
import { settleRunningJob, type TransactionRunner } from '../services/jobs/job-lifecycle.js';
import type { WorkerConnection } from './worker-connection.js';
import { JobAbort } from './job-runner.js';

/**
 * One query per worker process per tick, on the worker's own connection: extends the lease of all
 * its running jobs, aborts the ones whose cancellation was asked for or that are no longer its
 * own (reaped while it was cut off), and gives back rows that say this worker runs them while
 * nothing here does (a runner that died without settling; the reaper never touches a live
 * worker's jobs, so nobody else would).
 */
export function createJobHeartbeat(deps: {
  connection: WorkerConnection;
  tx: TransactionRunner;
  workerId: string;
  active: ReadonlyMap<string, AbortController>;
  claimInFlight(): boolean;
  onReleased(count: number): void;
}) {
  return async function beat(): Promise<void> {
    if (!deps.connection.connected()) return;
    // Only jobs that were running here before the query started can be judged by its answer: a
    // job claimed while the heartbeat was in flight is missing from a snapshot taken before the
    // claim committed, and must not be mistaken for one another worker took over.
    const checked = new Set(deps.active.keys());
    const claimBefore = deps.claimInFlight();
    const hb = await heartbeat(deps.connection, deps.workerId);
    for (const jobId of checked) {
      const controller = deps.active.get(jobId);
      if (!controller) continue;
      if (hb.cancelRequested.has(jobId)) controller.abort(new JobAbort('canceled'));
      else if (!hb.owned.has(jobId)) controller.abort(new JobAbort('lost'));
    }
    if (claimBefore || deps.claimInFlight()) return;
    const orphans = [...hb.owned].filter((jobId) => !deps.active.has(jobId) && !checked.has(jobId));
    let released = 0;
    for (const jobId of orphans) {
      const status = await deps.tx.inTransaction((q) => settleRunningJob(q, jobId, deps.workerId, { kind: 'worker_lost' }));
      if (status) released++;
    }
    if (released > 0) deps.onReleased(released);
  };
}
