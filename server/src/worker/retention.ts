import type { Queryable } from '../services/jobs/job-row.js';

const BATCH = 1000;

/**
 * Prunes what grows without bound, in small batches so no statement holds locks for long: the
 * event rows of jobs that finished more than `retentionDays` ago (their job rows, assets and
 * files stay — assets are never pruned by this), and webhook deliveries that ended as long ago.
 * Safe to run in every worker at once. Returns the rows removed.
 */
export async function pruneOldRows(q: Queryable, retentionDays: number, maxBatches = 50): Promise<{ events: number; webhooks: number }> {
  let events = 0;
  let webhooks = 0;
  for (let i = 0; i < maxBatches; i++) {
    const { rowCount } = await q.query(
      `DELETE FROM content_job_events WHERE id IN (
         SELECT e.id FROM content_jobs j JOIN content_job_events e ON e.job_id = j.id
         WHERE j.finished_at < now() - make_interval(days => $1)
         LIMIT $2)`,
      [retentionDays, BATCH],
    );
    events += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) break;
  }
  for (let i = 0; i < maxBatches; i++) {
    const { rowCount } = await q.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE coalesce(delivered_at, failed_at) < now() - make_interval(days => $1)
         LIMIT $2)`,
      [retentionDays, BATCH],
    );
    webhooks += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) break;
  }
  return { events, webhooks };
}
