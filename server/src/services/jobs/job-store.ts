import { createHash } from 'node:crypto';
import type { JobStatus } from '@kiln/shared';
import { CHANNELS, JOB_COLUMNS, type JobRow, type Queryable } from './job-row.js';
import { filteredPage } from '../../db/filtered-page-query.js';

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
}

/** Hash of what a client asked for, to tell an idempotent replay from a conflicting reuse of a key. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Inserts a queued job, its `content_job.queued` event and both NOTIFYs (events, and the queue
 * wake-up) in one statement. With an idempotency key already used by this company the insert does
 * nothing and `existing` is returned instead, for the caller to compare request hashes.
 */
export async function insertJob(q: Queryable, job: NewJob): Promise<{ job: JobRow; created: boolean }> {
  const { rows } = await q.query<JobRow>(
    `WITH j AS (
       INSERT INTO content_jobs (company_id, kind, input, priority, timeout_ms, max_attempts, source_task_id,
                                 idempotency_key, request_hash, webhook_url, requested_by)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (company_id, idempotency_key) DO NOTHING
       RETURNING *
     ), ev AS (
       INSERT INTO content_job_events (company_id, job_id, type, payload)
       SELECT j.company_id, j.id, 'content_job.queued',
              jsonb_build_object('jobId', j.id, 'status', j.status, 'kind', j.kind, 'sourceTaskId', j.source_task_id)
       FROM j RETURNING id, company_id, job_id
     )
     SELECT ${JOB_COLUMNS},
            pg_notify('${CHANNELS.events}', ev.id || ',' || ev.company_id || ',' || ev.job_id),
            pg_notify('${CHANNELS.queue}', '')
     FROM j JOIN ev ON ev.job_id = j.id`,
    [
      job.companyId,
      job.kind,
      JSON.stringify(job.input),
      job.priority,
      job.timeoutMs,
      job.maxAttempts,
      job.sourceTaskId,
      job.idempotencyKey,
      job.requestHash,
      job.webhookUrl,
      job.requestedBy,
    ],
  );
  if (rows[0]) return { job: stripExtras(rows[0]), created: true };
  const existing = await q.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM content_jobs j WHERE j.company_id = $1 AND j.idempotency_key = $2`,
    [job.companyId, job.idempotencyKey],
  );
  return { job: existing.rows[0]!, created: false };
}

function stripExtras(row: JobRow): JobRow {
  const { pg_notify: _a, ...rest } = row as JobRow & { pg_notify?: unknown };
  return rest as JobRow;
}

export async function findJob(q: Queryable, companyId: string, jobId: string): Promise<JobRow | null> {
  const { rows } = await q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM content_jobs j WHERE j.company_id = $1 AND j.id = $2`, [
    companyId,
    jobId,
  ]);
  return rows[0] ?? null;
}

export interface JobFilter {
  status?: JobStatus;
  kind?: string;
  sourceTaskId?: string;
  /** Id of the last job of the previous page. */
  afterId?: string;
  limit: number;
}

/** Newest first, filtered, keyset-paginated (see filteredPage). */
export function listJobs(q: Queryable, companyId: string, f: JobFilter): Promise<JobRow[]> {
  return filteredPage<JobRow>(q, {
    table: 'content_jobs',
    alias: 'j',
    columns: JOB_COLUMNS,
    companyId,
    equals: { status: f.status, kind: f.kind, source_task_id: f.sourceTaskId },
    afterId: f.afterId,
    limit: f.limit,
  });
}

/** Flags a running job for cancellation and wakes its worker; the worker performs the transition. */
export async function flagCancelRequested(q: Queryable, companyId: string, jobId: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `WITH u AS (
       UPDATE content_jobs SET cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
       WHERE id = $1 AND company_id = $2 AND status = 'running' RETURNING id
     )
     SELECT pg_notify('${CHANNELS.cancel}', u.id::text) FROM u`,
    [jobId, companyId],
  );
  return (rowCount ?? 0) > 0;
}
