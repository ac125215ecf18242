import { createHash } from 'node:crypto';
import type { JobStatus } from '@kiln/shared';
import { CHANNELS, JOB_COLUMNS, type JobRow, type Queryable } from './job-row.js';
import { filteredPage } from '../../db/filtered-page-query.js';

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
