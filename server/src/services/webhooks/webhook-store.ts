import type { WebhookDeliveryView } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';

/** A claimed delivery, with what is needed to build and sign its request. */
export interface DueDelivery {
  id: string;
  companyId: string;
  jobId: string;
  eventId: string;
  url: string;
  attempt: number;
  type: string;
  payload: Record<string, unknown>;
  secret: string;
  /** The secret before the last rotation, while its overlap lasts; null otherwise. */
  previousSecret: string | null;
}

export interface ClaimOptions {
  /** At most this many rows. */
  limit: number;
  /** A company with this many sends in flight (in any process) gets no more for now. */
  perCompanyInFlight: number;
  /** How long a claimed row stays invisible to other workers while it is being sent. */
  leaseSeconds: number;
  /** How long after a rotation the previous secret still signs. */
  secretOverlapSeconds: number;
}

/** Neither delivered nor given up (`t`: a table alias with its dot). */
const pending = (t = '') => `${t}delivered_at IS NULL AND ${t}failed_at IS NULL`;

/**
 * Claims due deliveries fairly: each company's due rows are numbered oldest first, and rows are
 * taken by that number (every company's first, then every company's second, …), skipping
 * companies that already have `perCompanyInFlight` sends under way anywhere. So a company with a
 * backlog or a dead receiver cannot fill the send slots that others need.
 *
 * Window functions can't be combined with FOR UPDATE, so the pick is made first and then locked
 * with SKIP LOCKED, re-checking that each row is still due: any number of workers can claim side
 * by side, each skipping what another has taken. Two workers claiming at the same instant may
 * both see room for a company, so the per-company limit can be exceeded briefly by the number of
 * worker processes; it is a fairness bound, not a quota.
 *
 * The claim moves `next_attempt_at` past the lease and sets `in_flight_until`: a worker that
 * dies mid-send leaves the row to be retried when the lease ends.
 */
export async function claimDueDeliveries(q: Queryable, o: ClaimOptions): Promise<DueDelivery[]> {
  const { rows } = await q.query<DueDelivery>(
    `WITH sending AS (
       SELECT company_id, count(*)::int AS n FROM webhook_deliveries
       WHERE ${pending()} AND in_flight_until > now()
       GROUP BY company_id
     ), ranked AS (
       SELECT w.id, w.next_attempt_at,
              row_number() OVER (PARTITION BY w.company_id ORDER BY w.next_attempt_at, w.id) AS turn,
              $2::int - coalesce(s.n, 0) AS room
       FROM webhook_deliveries w LEFT JOIN sending s ON s.company_id = w.company_id
       WHERE ${pending('w.')} AND w.next_attempt_at <= now()
     ), picked AS (
       SELECT id FROM ranked WHERE turn <= room ORDER BY turn, next_attempt_at, id LIMIT $1
     ), locked AS (
       SELECT w.id FROM webhook_deliveries w
       WHERE w.id IN (SELECT id FROM picked)
         AND ${pending('w.')} AND w.next_attempt_at <= now()
       FOR UPDATE SKIP LOCKED
     ), d AS (
       UPDATE webhook_deliveries w
       SET attempt = w.attempt + 1,
           next_attempt_at = now() + make_interval(secs => $3),
           in_flight_until = now() + make_interval(secs => $3)
       FROM locked WHERE w.id = locked.id
       RETURNING w.id, w.company_id, w.job_id, w.event_id, w.url, w.attempt
     )
     SELECT d.id::text AS id, d.company_id AS "companyId", d.job_id AS "jobId", d.event_id::text AS "eventId",
            d.url, d.attempt, e.type, e.payload,
            c.webhook_secret AS secret,
            CASE WHEN c.webhook_secret_rotated_at > now() - make_interval(secs => $4)
                 THEN c.previous_webhook_secret END AS "previousSecret"
     FROM d
     JOIN content_job_events e ON e.id = d.event_id
     JOIN companies c ON c.id = d.company_id`,
    [o.limit, o.perCompanyInFlight, o.leaseSeconds, o.secretOverlapSeconds],
  );
  return rows;
}

export async function markDelivered(q: Queryable, id: string, statusCode: number): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries SET delivered_at = now(), status_code = $2, error = NULL, in_flight_until = NULL WHERE id = $1`,
    [id, statusCode],
  );
}

/** Records a failed attempt: retried after `retryInMs`, or given up when it is null. */
export async function markAttemptFailed(
  q: Queryable,
  id: string,
  outcome: { statusCode: number | null; error: string; retryInMs: number | null },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries
     SET status_code = $2, error = $3, in_flight_until = NULL,
         failed_at = CASE WHEN $4::float8 IS NULL THEN now() END,
         next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $4::float8 / 1000) END
     WHERE id = $1`,
    [id, outcome.statusCode, outcome.error.slice(0, 1000), outcome.retryInMs],
  );
}

/**
 * Hands back a row whose send was interrupted (the worker is stopping): due again now, without
 * waiting for the lease. Its attempt stays counted (the receiver may have seen it).
 */
export async function releaseDelivery(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries SET error = $2, in_flight_until = NULL, next_attempt_at = now()
     WHERE id = $1 AND ${pending()}`,
    [id, error],
  );
}

interface LedgerRow extends Omit<WebhookDeliveryView, 'deliveredAt' | 'failedAt' | 'nextAttemptAt' | 'createdAt'> {
  deliveredAt: Date | null;
  failedAt: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

const LEDGER_COLUMNS = `id::text AS id, event_id::text AS "eventId", url,
  CASE WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN failed_at IS NOT NULL THEN 'failed'
       WHEN in_flight_until > now() THEN 'sending' ELSE 'pending' END AS state,
  attempt, status_code AS "statusCode", error, delivered_at AS "deliveredAt", failed_at AS "failedAt",
  CASE WHEN ${pending()} AND NOT coalesce(in_flight_until > now(), false) THEN next_attempt_at END AS "nextAttemptAt",
  created_at AS "createdAt"`;

const iso = (d: Date | null) => d?.toISOString() ?? null;
const toView = (r: LedgerRow): WebhookDeliveryView => ({
  ...r,
  deliveredAt: iso(r.deliveredAt),
  failedAt: iso(r.failedAt),
  nextAttemptAt: iso(r.nextAttemptAt),
  createdAt: r.createdAt.toISOString(),
});

/** Every delivery of a job, oldest first (a redelivery of a finished one is a row of its own). */
export async function listDeliveriesOfJob(q: Queryable, companyId: string, jobId: string): Promise<WebhookDeliveryView[]> {
  const { rows } = await q.query<LedgerRow>(
    `SELECT ${LEDGER_COLUMNS} FROM webhook_deliveries WHERE company_id = $1 AND job_id = $2 ORDER BY id`,
    [companyId, jobId],
  );
  return rows.map(toView);
}

export async function findDelivery(q: Queryable, companyId: string, id: string): Promise<(WebhookDeliveryView & { jobId: string }) | null> {
  const { rows } = await q.query<LedgerRow & { jobId: string }>(
    `SELECT ${LEDGER_COLUMNS}, job_id AS "jobId" FROM webhook_deliveries WHERE company_id = $1 AND id = $2`,
    [companyId, id],
  );
  return rows[0] ? { ...toView(rows[0]), jobId: rows[0].jobId } : null;
}

/**
 * Adds a pending delivery of the same event (same job, URL and `webhook-id`), due now, unless one
 * is pending already (the partial unique index keeps it at one). Returns the pending row's id.
 */
export async function requeueEvent(q: Queryable, companyId: string, deliveryId: string): Promise<string | null> {
  await q.query(
    `INSERT INTO webhook_deliveries (company_id, job_id, event_id, url)
     SELECT company_id, job_id, event_id, url FROM webhook_deliveries WHERE company_id = $1 AND id = $2
     ON CONFLICT (company_id, event_id) WHERE ${pending()} DO NOTHING`,
    [companyId, deliveryId],
  );
  // Whether it was just added or already there, the pending one is due now unless being sent.
  const { rows } = await q.query<{ id: string }>(
    `UPDATE webhook_deliveries p
     SET next_attempt_at = CASE WHEN coalesce(p.in_flight_until > now(), false) THEN p.next_attempt_at ELSE least(p.next_attempt_at, now()) END
     FROM webhook_deliveries src
     WHERE src.company_id = $1 AND src.id = $2
       AND p.company_id = src.company_id AND p.event_id = src.event_id AND ${pending('p.')}
     RETURNING p.id::text AS id`,
    [companyId, deliveryId],
  );
  return rows[0]?.id ?? null;
}
