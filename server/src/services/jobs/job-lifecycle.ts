import type { JobStatus, LiveEventType } from '@kiln/shared';
import { CHANNELS, JOB_COLUMNS, type JobRow, type Queryable } from './job-row.js';

/**
 * The job lifecycle: which status may follow which, and the one function that changes a job.
 * `queued → running → done | failed | canceled`; `running → queued` on a retry; `queued → canceled`;
 * `running → running` records progress. Terminal states are final.
 */
export const ALLOWED_TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['running', 'canceled'],
  running: ['running', 'queued', 'done', 'failed', 'canceled'],
  done: [],
  failed: [],
  canceled: [],
};

export interface TransitionFields {
  progress?: number;
  stage?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** Delay before a retried job may run again. */
  retryDelayMs?: number;
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
 * matching content_job_events row (payload always carries jobId and status) and its NOTIFY — in
 * one statement, hence one transaction, or inside the caller's transaction when `q` is a client
 * in BEGIN. Returns null when the guard did not match (someone else moved the job first).
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
  if (t.to === 'queued') {
    sets.push('locked_by = NULL', 'heartbeat_at = NULL', 'progress = 0', 'stage = NULL');
    sets.push(`run_at = now() + make_interval(secs => ${param((f.retryDelayMs ?? 0) / 1000)})`);
  }
  if (t.to === 'done' || t.to === 'failed' || t.to === 'canceled') sets.push('finished_at = now()');
  if (t.to === 'done') sets.push('progress = 1');
  const guard = t.lockedBy !== undefined ? ` AND j.locked_by = ${param(t.lockedBy)}` : '';

  const { rows } = await q.query<JobRow & { eventId: string }>(
    `WITH u AS (
       UPDATE content_jobs j SET ${sets.join(', ')}
       WHERE j.id = $1 AND j.status = $2${guard}
       RETURNING ${JOB_COLUMNS}
     ), ev AS (
       INSERT INTO content_job_events (company_id, job_id, type, payload)
       SELECT u."companyId", u.id, $4,
              $5::jsonb || jsonb_build_object('jobId', u.id, 'status', u.status, 'progress', u.progress,
                                              'stage', u.stage, 'attempt', u.attempt)
       FROM u
       RETURNING id, company_id, job_id
     ), webhook AS (
       -- The webhook outbox row commits with the terminal transition it announces.
       INSERT INTO webhook_deliveries (company_id, job_id, event_id, url)
       SELECT u."companyId", u.id, ev.id, u."webhookUrl" FROM u JOIN ev ON ev.job_id = u.id
       WHERE u."webhookUrl" IS NOT NULL AND u.status IN ('done', 'failed', 'canceled')
     )
     SELECT u.*, ev.id::text AS "eventId",
            pg_notify('${CHANNELS.events}', ev.id || ',' || ev.company_id || ',' || ev.job_id) AS notified
     FROM u JOIN ev ON ev.job_id = u.id`,
    values,
  );
  const row = rows[0];
  if (!row) return null;
  const { eventId, notified: _n, ...job } = row as JobRow & { eventId: string; notified: unknown };
  return { job: job as JobRow, eventId };
}

/** Writes an event that is not a status change (e.g. asset.created) with its NOTIFY. */
export async function appendJobEvent(
  q: Queryable,
  e: { companyId: string; jobId: string; type: LiveEventType; payload: Record<string, unknown> & { status: JobStatus } },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    `WITH ev AS (
       INSERT INTO content_job_events (company_id, job_id, type, payload)
       VALUES ($1, $2, $3, $4::jsonb || jsonb_build_object('jobId', $2::uuid))
       RETURNING id, company_id, job_id
     )
     SELECT ev.id::text AS id, pg_notify('${CHANNELS.events}', ev.id || ',' || ev.company_id || ',' || ev.job_id)
     FROM ev`,
    [e.companyId, e.jobId, e.type, JSON.stringify(e.payload)],
  );
  return rows[0]!.id;
}
