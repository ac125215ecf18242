import type { Queryable } from '../jobs/job-row.js';

export interface DueDelivery {
  id: string;
  companyId: string;
  jobId: string;
  eventId: string;
  url: string;
  attempt: number;
  type: string;
  payload: Record<string, unknown>;
}

/** How long a claimed delivery stays invisible to other workers while it is being sent. */
const DELIVERY_LEASE_SECONDS = 60;

/**
 * Claims due deliveries (SKIP LOCKED, so any number of workers can deliver side by side) and
 * pushes their next attempt past the lease: a worker that dies mid-send leaves the row to be
 * retried when the lease ends.
 */
export async function claimDueDeliveries(q: Queryable, limit: number): Promise<DueDelivery[]> {
  const { rows } = await q.query<DueDelivery>(
    `WITH due AS (
       SELECT id FROM webhook_deliveries
       WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT $1
       FOR UPDATE SKIP LOCKED
     ), d AS (
       UPDATE webhook_deliveries w
       SET attempt = w.attempt + 1, next_attempt_at = now() + make_interval(secs => $2)
       FROM due WHERE w.id = due.id
       RETURNING w.id, w.company_id, w.job_id, w.event_id, w.url, w.attempt
     )
     SELECT d.id::text AS id, d.company_id AS "companyId", d.job_id AS "jobId", d.event_id::text AS "eventId",
            d.url, d.attempt, e.type, e.payload
     FROM d JOIN content_job_events e ON e.id = d.event_id`,
    [limit, DELIVERY_LEASE_SECONDS],
  );
  return rows;
}

export async function markDelivered(q: Queryable, id: string, statusCode: number): Promise<void> {
  await q.query(`UPDATE webhook_deliveries SET delivered_at = now(), status_code = $2, error = NULL WHERE id = $1`, [id, statusCode]);
}

export async function markAttemptFailed(
  q: Queryable,
  id: string,
  outcome: { statusCode: number | null; error: string; retryInMs: number | null },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries
     SET status_code = $2, error = $3,
         failed_at = CASE WHEN $4::float8 IS NULL THEN now() END,
         next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $4::float8 / 1000) END
     WHERE id = $1`,
    [id, outcome.statusCode, outcome.error.slice(0, 1000), outcome.retryInMs],
  );
}
