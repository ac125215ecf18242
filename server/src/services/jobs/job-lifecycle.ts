import type { JobStatus, LiveEventType } from '@kiln/shared';
import { retryDelayMs } from './backoff.js';
import { CHANNELS, JOB_COLUMNS, type JobRow, type Queryable } from './job-row.js';
import { prepared } from '../../db/prepared.js';

/**
 * The job lifecycle, in one place: which status may follow which, what a failure, a lost worker,
 * a shutdown or a cancel does in each state (the decision table), and every statement that
 * changes a job's status or writes an event. Each such statement writes the job row, its
 * `content_job_events` row and the NOTIFY together, so a change is never seen without its event.
 *
 * `queued → running → done | failed | canceled`; `running → queued` on a retry, a shutdown or a
 * lost worker; `queued → canceled`; `running → running` records progress. Terminal states are final.
 */
export const ALLOWED_TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['running', 'canceled'],
  running: ['running', 'queued', 'done', 'failed', 'canceled'],
  done: [],
  failed: [],
  canceled: [],
};

/** A job that loses its worker more often than this fails `worker_lost` whatever its attempts. */
export const MAX_LOST_ATTEMPTS = 5;
/** Free retries (a remote API asking us to wait) a job may take before they count as attempts. */
export const MAX_FREE_RETRIES = 20;

// ---------------------------------------------------------------------------------------------
// Events: the one place that writes content_job_events rows and announces them.

/**
 * A CTE `ev` inserting one event per row of `source` — a SELECT yielding (company_id, job_id,
 * type, payload) — plus the expression that NOTIFYs it. Notifications carry ids only.
 */
function eventsCte(source: string): string {
  return `ev AS (
    INSERT INTO content_job_events (company_id, job_id, type, payload)
    ${source}
    RETURNING id, company_id, job_id
  )`;
}
const NOTIFY_EVENT = `pg_notify('${CHANNELS.events}', ev.id || ',' || ev.company_id || ',' || ev.job_id)`;

/** Writes an event that is not a status change (e.g. asset.created). */
export async function appendJobEvent(
  q: Queryable,
  e: { companyId: string; jobId: string; type: LiveEventType; payload: Record<string, unknown> & { status: JobStatus } },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    prepared(
      `WITH ${eventsCte(`SELECT $1::uuid, $2::uuid, $3, $4::jsonb || jsonb_build_object('jobId', $2::uuid)`)}
       SELECT ev.id::text AS id, ${NOTIFY_EVENT} FROM ev`,
      [e.companyId, e.jobId, e.type, JSON.stringify(e.payload)],
    ),
  );
  return rows[0]!.id;
}

// ---------------------------------------------------------------------------------------------
// queued: a new job

export interface NewJob {
  companyId: string;
  kind: string;
  input: unknown;
  priority: number;
  timeoutMs: number;
  maxAttempts: number;
  sourceTaskId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  webhookUrl: string | null;
  requestedBy: string | null;
  inputAssetIds: string[];
  outputName: string | null;
  /**
   * Count the company's queued jobs against max_queued_jobs in the insert (default). Callers far
   * from the cap may skip that read of the queue (see queue-cap-check.ts).
   */
  countQueue?: boolean;
}

export type InsertOutcome =
  | { outcome: 'created'; job: JobRow }
  | { outcome: 'existing'; job: JobRow }
  | { outcome: 'queue_full'; maxQueued: number }
  | { outcome: 'no_company' };

const INSERT_JOB_SQL = `WITH j AS (
       INSERT INTO content_jobs (company_id, kind, input, priority, timeout_ms, max_attempts, source_task_id,
                                 idempotency_key, request_hash, webhook_url, requested_by, input_asset_ids, output_name)
       SELECT c.id, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12::uuid[], $13
       FROM companies c
       WHERE c.id = $1
         AND (NOT $14::boolean
              OR (SELECT count(*) FROM (SELECT 1 FROM content_jobs q WHERE q.company_id = c.id AND q.status = 'queued'
                                        LIMIT c.max_queued_jobs) n) < c.max_queued_jobs)
       ON CONFLICT (company_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING *
     ), ${eventsCte(`SELECT j.company_id, j.id, 'content_job.queued',
              jsonb_build_object('jobId', j.id, 'status', j.status, 'kind', j.kind, 'sourceTaskId', j.source_task_id)
       FROM j`)}
     SELECT ${JOB_COLUMNS}, ${NOTIFY_EVENT}, pg_notify('${CHANNELS.queue}', '')
     FROM j JOIN ev ON ev.job_id = j.id`;

/**
 * Inserts a queued job, its `content_job.queued` event and both NOTIFYs (events, and the queue
 * wake-up) in one statement — unless the company already has `max_queued_jobs` queued (counted
 * on a partial index, and only up to the cap), or the idempotency key was used before. The
 * reasons for "nothing inserted" are told apart afterwards, off the hot path.
 */
export async function insertQueuedJob(q: Queryable, job: NewJob): Promise<InsertOutcome> {
  const { rows } = await q.query<JobRow>(
    prepared(INSERT_JOB_SQL, [
      job.companyId, job.kind, JSON.stringify(job.input), job.priority, job.timeoutMs, job.maxAttempts,
      job.sourceTaskId, job.idempotencyKey, job.requestHash, job.webhookUrl, job.requestedBy,
      job.inputAssetIds, job.outputName, job.countQueue ?? true,
    ]),
  );
  if (rows[0]) return { outcome: 'created', job: stripNotify(rows[0]) };
  if (job.idempotencyKey !== null) {
    const existing = await q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM content_jobs j WHERE j.company_id = $1 AND j.idempotency_key = $2`, [
      job.companyId,
      job.idempotencyKey,
    ]);
    if (existing.rows[0]) return { outcome: 'existing', job: existing.rows[0] };
  }
  const company = await q.query<{ max: number }>(`SELECT max_queued_jobs AS max FROM companies WHERE id = $1`, [job.companyId]);
  return company.rows[0] ? { outcome: 'queue_full', maxQueued: company.rows[0].max } : { outcome: 'no_company' };
}

function stripNotify<T extends object>(row: T): T {
  const { pg_notify: _n, notified: _m, ...rest } = row as T & { pg_notify?: unknown; notified?: unknown };
  return rest as T;
}

// ---------------------------------------------------------------------------------------------
// queued → running: the claim

export interface TransactionRunner {
  /** Runs `fn` inside BEGIN/COMMIT on one connection. */
  inTransaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
}

/**
 * Claims up to `limit` queued jobs of the given kinds whose run_at has come, best priority first,
 * never taking a company past its max_concurrent_jobs (companies already at it are skipped before
 * candidates are picked, so they cannot starve the others), each with its `content_job.running`
 * event and NOTIFY — one statement, one round trip. The statement is the PL/pgSQL function
 * `kiln_claim_jobs` (migration 0008): it takes the claim lock and only then reads the queue with a
 * fresh snapshot, and it keeps its plan for the session.
 */
export async function claimQueuedJobs(q: Queryable, workerId: string, limit: number, kinds: string[]): Promise<JobRow[]> {
  if (limit <= 0 || kinds.length === 0) return [];
  const { rows } = await q.query<JobRow>(
    prepared(`SELECT ${JOB_COLUMNS} FROM kiln_claim_jobs($1, $2, $3::text[]) j ORDER BY j.priority DESC, j.run_at, j.id`, [workerId, limit, kinds]),
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------
// running → done: the completion

export interface CompletedOutput {
  provider: string;
  namespace: string;
  objectKey: string;
  contentType: string;
  byteSize: number;
  sha256: string;
  filename: string;
  role: string;
  metadata: Record<string, unknown>;
}

export interface Completion {
  jobId: string;
  workerId: string;
  outputs: CompletedOutput[];
  warnings: string[];
}

/**
 * Records a finished render in one statement: the asset rows, an `asset.created` event for each
 * (in output order) and then `content_job.done` with their ids, the webhook outbox row and the
 * NOTIFYs — all guarded by `status = 'running' AND locked_by = worker`, so a job that was reaped or
 * canceled meanwhile gets neither assets nor `done`.
 */
const COMPLETION_SQL = `WITH u AS (
    UPDATE content_jobs j
    SET status = 'done', progress = 1, stage = 'done', error_code = NULL, error_message = NULL,
        warnings = $3::jsonb, finished_at = now(), updated_at = now()
    WHERE j.id = $1 AND j.status = 'running' AND j.locked_by = $2
    RETURNING ${JOB_COLUMNS}
  ), x AS (
    SELECT * FROM jsonb_to_recordset($4::jsonb)
      AS x(ord int, provider text, namespace text, object_key text, content_type text, byte_size bigint, sha256 text,
           original_filename text, role text, metadata jsonb)
  ), a AS (
    INSERT INTO assets (company_id, provider, namespace, object_key, content_type, byte_size, sha256,
                        original_filename, source_task_id, source_job_id, role, metadata)
    SELECT u."companyId", x.provider, x.namespace, x.object_key, x.content_type, x.byte_size, x.sha256,
           x.original_filename, u."sourceTaskId", u.id, x.role, x.metadata
    FROM u, x
    RETURNING id, object_key, role, content_type, byte_size
  ), numbered AS (
    SELECT a.*, x.ord FROM a JOIN x ON x.object_key = a.object_key
  ), ev AS (
    INSERT INTO content_job_events (company_id, job_id, type, payload)
    SELECT company_id, job_id, type, payload FROM (
      SELECT u."companyId" AS company_id, u.id AS job_id, 'asset.created' AS type,
             jsonb_build_object('jobId', u.id, 'status', 'running', 'assetId', n.id, 'role', n.role,
                                'contentType', n.content_type, 'byteSize', n.byte_size) AS payload, n.ord AS ord
      FROM u, numbered n
      UNION ALL
      SELECT u."companyId", u.id, 'content_job.done',
             jsonb_build_object('jobId', u.id, 'status', u.status, 'progress', 1, 'stage', 'done', 'attempt', u.attempt,
                                'assetIds', (SELECT coalesce(jsonb_agg(n.id ORDER BY n.ord), '[]'::jsonb) FROM numbered n)),
             2147483647
      FROM u
    ) e ORDER BY ord
    RETURNING id, company_id, job_id, type
  ), webhook AS (
    INSERT INTO webhook_deliveries (company_id, job_id, event_id, url)
    SELECT u."companyId", u.id, ev.id, u."webhookUrl" FROM u JOIN ev ON ev.job_id = u.id AND ev.type = 'content_job.done'
    WHERE u."webhookUrl" IS NOT NULL
  )
  SELECT ev.type, ${NOTIFY_EVENT} AS notified FROM ev`;

/** The completion statement (COMPLETION_SQL) with its parameters, as a prepared statement. */
function completionQuery(c: Completion) {
  const outputs = c.outputs.map((o, i) => ({
    ord: i, provider: o.provider, namespace: o.namespace, object_key: o.objectKey, content_type: o.contentType,
    byte_size: o.byteSize, sha256: o.sha256, original_filename: o.filename, role: o.role, metadata: o.metadata ?? {},
  }));
  return prepared(COMPLETION_SQL, [c.jobId, c.workerId, JSON.stringify(c.warnings), JSON.stringify(outputs)]);
}

/**
 * Completes a job (see completionQuery) and then, when asked, claims up to `next.limit` jobs to
 * take its place straight away, so a busy slot does not wait for the claim loop's next round.
 * `done` is false when the job was no longer this worker's (then nothing is claimed).
 */
export async function completeJob(
  q: Queryable,
  c: Completion,
  next: { limit: number; kinds: string[] } | null,
): Promise<{ done: boolean; claimed: JobRow[] }> {
  const { rows } = await q.query<{ type: string }>(completionQuery(c));
  const done = rows.some((r) => r.type === 'content_job.done');
  // A claim that fails here is no loss: the claim loop's next round takes the jobs (and the
  // heartbeat releases any this worker claimed without hearing so).
  const claimed = done && next ? await claimQueuedJobs(q, c.workerId, next.limit, next.kinds).catch(() => []) : [];
  return { done, claimed };
}

// ---------------------------------------------------------------------------------------------
// Any single guarded transition

export interface TransitionFields {
  progress?: number;
  stage?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** When a job goes back to `queued`: run again after this delay, or keep its place in the queue. */
  runAt?: 'keep' | { delayMs: number };
  /** Added to `attempt` (−1 gives back an attempt the job was not at fault for). */
  attemptDelta?: number;
  /** Added to `lost_attempts`. */
  lostDelta?: number;
  /** Added to `throttled_retries`. */
  throttledDelta?: number;
  /** Replaces the job's warnings (the runner sends all of them with the final transition). */
  warnings?: string[];
  /** Replaces the renderer's checkpoint (small JSON for a later attempt). */
  checkpoint?: unknown;
}

export interface Transition {
  jobId: string;
  from: JobStatus;
  to: JobStatus;
  /** Worker writes are guarded by ownership too: a job that was reaped is no longer ours. */
  lockedBy?: string;
  fields?: TransitionFields;
  event: { type: LiveEventType; payload?: Record<string, unknown> };
}

export interface TransitionResult {
  job: JobRow;
  eventId: string;
}

/**
 * Performs one guarded transition: `UPDATE ... WHERE id AND status = from [AND locked_by]`, the
 * matching content_job_events row (payload always carries jobId and status), the webhook outbox
 * row of a terminal transition, and the NOTIFY — in one statement, hence one transaction, or
 * inside the caller's transaction when `q` is a client in BEGIN. Returns null when the guard did
 * not match (someone else moved the job first).
 */
export async function transitionJob(q: Queryable, t: Transition): Promise<TransitionResult | null> {
  if (!ALLOWED_TRANSITIONS[t.from].includes(t.to)) {
    throw new Error(`illegal job transition ${t.from} → ${t.to}`);
  }
  const values: unknown[] = [t.jobId, t.from, t.to, t.event.type, JSON.stringify(t.event.payload ?? {})];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const sets = ['status = $3', 'updated_at = now()'];
  const f = t.fields ?? {};
  if (f.progress !== undefined) sets.push(`progress = ${param(Math.min(1, Math.max(0, f.progress)))}`);
  if (f.stage !== undefined) sets.push(`stage = ${param(f.stage)}`);
  if (f.errorCode !== undefined) sets.push(`error_code = ${param(f.errorCode)}`);
  if (f.errorMessage !== undefined) sets.push(`error_message = ${param(f.errorMessage)}`);
  if (f.attemptDelta) sets.push(`attempt = greatest(0, j.attempt + ${param(f.attemptDelta)}::int)`);
  if (f.lostDelta) sets.push(`lost_attempts = j.lost_attempts + ${param(f.lostDelta)}::int`);
  if (f.throttledDelta) sets.push(`throttled_retries = j.throttled_retries + ${param(f.throttledDelta)}::int`);
  if (f.warnings !== undefined) sets.push(`warnings = ${param(JSON.stringify(f.warnings))}::jsonb`);
  if (f.checkpoint !== undefined) sets.push(`checkpoint = ${param(JSON.stringify(f.checkpoint))}::jsonb`);
  if (t.to === 'queued') {
    sets.push('locked_by = NULL', 'heartbeat_at = NULL', 'progress = 0', 'stage = NULL', 'cancel_requested_at = NULL');
    const runAt = f.runAt ?? { delayMs: 0 };
    if (runAt !== 'keep') sets.push(`run_at = now() + make_interval(secs => ${param(runAt.delayMs / 1000)})`);
  }
  if (t.to === 'done' || t.to === 'failed' || t.to === 'canceled') sets.push('finished_at = now()');
  if (t.to === 'done') sets.push('progress = 1');
  const guard = t.lockedBy !== undefined ? ` AND j.locked_by = ${param(t.lockedBy)}` : '';

  const { rows } = await q.query<JobRow & { eventId: string }>(
    prepared(
      `WITH u AS (
       UPDATE content_jobs j SET ${sets.join(', ')}
       WHERE j.id = $1 AND j.status = $2${guard}
       RETURNING ${JOB_COLUMNS}
     ), ${eventsCte(`SELECT u."companyId", u.id, $4,
              $5::jsonb || jsonb_build_object('jobId', u.id, 'status', u.status, 'progress', u.progress,
                                              'stage', u.stage, 'attempt', u.attempt)
       FROM u`)}, webhook AS (
       -- The webhook outbox row commits with the terminal transition it announces.
       INSERT INTO webhook_deliveries (company_id, job_id, event_id, url)
       SELECT u."companyId", u.id, ev.id, u."webhookUrl" FROM u JOIN ev ON ev.job_id = u.id
       WHERE u."webhookUrl" IS NOT NULL AND u.status IN ('done', 'failed', 'canceled')
     )
     SELECT u.*, ev.id::text AS "eventId", ${NOTIFY_EVENT} AS notified
     FROM u JOIN ev ON ev.job_id = u.id`,
      values,
    ),
  );
  const row = rows[0];
  if (!row) return null;
  const { eventId, ...job } = stripNotify(row);
  return { job: job as JobRow, eventId };
}

// ---------------------------------------------------------------------------------------------
// The decision table: how a running job ends when it does not end `done`.

/** Why a running job is being settled. */
export type SettleCause =
  /** The worker honoured a cancel request. */
  | { kind: 'canceled' }
  /**
   * The render failed; `retryable` says whether the same input may succeed on another try,
   * `retryAfterMs` how long to wait first (a remote API's Retry-After), `freeRetry` that the try
   * does not spend an attempt (the remote side asked us to wait).
   */
  | { kind: 'failed'; error: { code: string; message: string; details?: unknown }; retryable: boolean; retryAfterMs?: number; freeRetry?: boolean }
  | { kind: 'timeout'; timeoutMs: number }
  /** Its worker died or lost track of it (reaper, or the worker's own orphan release). */
  | { kind: 'worker_lost' }
  /** Its worker is stopping in order. */
  | { kind: 'shutdown' };

export interface SettleState {
  status: JobStatus;
  attempt: number;
  maxAttempts: number;
  lostAttempts: number;
  cancelRequested: boolean;
  /** Free retries taken so far (see SettleCause `freeRetry`). */
  throttledRetries?: number;
}

export interface Settlement {
  to: 'queued' | 'failed' | 'canceled';
  event: LiveEventType;
  /** Stored as error_code/error_message; null keeps what the row has. */
  error: { code: string; message: string; details?: unknown } | null;
  runAt: 'keep' | { delayMs: number };
  attemptDelta: number;
  lostDelta: number;
  throttledDelta?: number;
  payload: Record<string, unknown>;
}

const CANCELED = { code: 'canceled', message: 'Canceled on request.' };
const WORKER_LOST = { code: 'worker_lost', message: 'The worker running this job stopped before it finished.' };

/**
 * What happens to a job for each cause in each state. Only running jobs are settled (anything
 * else: null, nothing to do). A cancel request wins over every other cause, so a job whose
 * cancellation was asked for never goes back to the queue. Requeued jobs keep their place
 * (`run_at`) when they were not at fault (lost worker, shutdown); a shutdown gives the attempt
 * back; a lost worker costs one attempt the first time only, bounded by MAX_LOST_ATTEMPTS.
 */
export function decideSettlement(job: SettleState, cause: SettleCause, random = Math.random): Settlement | null {
  if (job.status !== 'running') return null;
  const base = { runAt: 'keep' as const, attemptDelta: 0, lostDelta: 0 };
  const fail = (error: { code: string; message: string; details?: unknown }, lostDelta = 0): Settlement => ({
    ...base, to: 'failed', event: 'content_job.failed', error, lostDelta, payload: { error },
  });
  if (job.cancelRequested || cause.kind === 'canceled') {
    return { ...base, to: 'canceled', event: 'content_job.canceled', error: CANCELED, payload: {} };
  }
  switch (cause.kind) {
    case 'shutdown':
      return { ...base, to: 'queued', event: 'content_job.retrying', error: null, attemptDelta: -1, payload: { reason: 'worker_shutdown' } };
    case 'worker_lost': {
      const lost = job.lostAttempts + 1;
      if (lost > MAX_LOST_ATTEMPTS) {
        return fail({ code: 'worker_lost', message: `The job lost its worker ${lost} times; giving up.` }, 1);
      }
      const counted = job.lostAttempts === 0;
      if (counted && job.attempt >= job.maxAttempts) return fail(WORKER_LOST, 1);
      return {
        ...base, to: 'queued', event: 'content_job.retrying', error: WORKER_LOST,
        attemptDelta: counted ? 0 : -1, lostDelta: 1, payload: { error: WORKER_LOST },
      };
    }
    case 'timeout':
      return fail({ code: 'timeout', message: `The job ran longer than its timeout of ${cause.timeoutMs} ms.` });
    case 'failed': {
      const error = { code: cause.error.code, message: cause.error.message };
      const free = cause.retryable && cause.freeRetry && (job.throttledRetries ?? 0) < MAX_FREE_RETRIES;
      if (free || (cause.retryable && job.attempt < job.maxAttempts)) {
        const delayMs = Math.max(cause.retryAfterMs ?? 0, free ? 0 : retryDelayMs(job.attempt, random));
        return {
          ...base, to: 'queued', event: 'content_job.retrying', error, runAt: { delayMs },
          ...(free ? { attemptDelta: -1, throttledDelta: 1 } : {}),
          payload: { error, retryInMs: delayMs, ...(free ? { attemptSpent: false } : {}) },
        };
      }
      return fail(cause.error);
    }
  }
}

/** What a cancel request does in each state. */
export function decideCancelRequest(status: JobStatus): 'cancel_now' | 'flag_running' | 'not_cancelable' {
  if (status === 'queued') return 'cancel_now';
  if (status === 'running') return 'flag_running';
  return 'not_cancelable';
}

/**
 * Settles a running job by the decision table, reading its row under a lock so that a cancel
 * request or another settler racing with us is seen. `owner`: only if the job is still locked by
 * this worker (null: whoever holds it, as the reaper does for a dead worker). Must run inside a
 * transaction. Returns the new status, or null when there was nothing to settle.
 */
export async function settleRunningJob(
  q: Queryable,
  jobId: string,
  owner: string | null,
  cause: SettleCause,
  extra: { warnings?: string[] } = {},
): Promise<JobStatus | null> {
  const { rows } = await q.query<SettleState & { lockedBy: string | null }>(
    `SELECT status, attempt, max_attempts AS "maxAttempts", lost_attempts AS "lostAttempts", throttled_retries AS "throttledRetries",
            cancel_requested_at IS NOT NULL AS "cancelRequested", locked_by AS "lockedBy"
     FROM content_jobs WHERE id = $1 FOR UPDATE`,
    [jobId],
  );
  const row = rows[0];
  if (!row || (owner !== null && row.lockedBy !== owner)) return null;
  const s = decideSettlement(row, cause);
  if (!s) return null;
  const result = await transitionJob(q, {
    jobId,
    from: 'running',
    to: s.to,
    lockedBy: row.lockedBy ?? undefined,
    fields: {
      ...(s.error ? { errorCode: s.error.code, errorMessage: s.error.message } : {}),
      runAt: s.runAt,
      attemptDelta: s.attemptDelta,
      lostDelta: s.lostDelta,
      throttledDelta: s.throttledDelta,
      ...(extra.warnings ? { warnings: extra.warnings } : {}),
    },
    event: { type: s.event, payload: s.payload },
  });
  return result ? s.to : null;
}
