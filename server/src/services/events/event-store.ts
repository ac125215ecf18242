import type { JobEvent } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';

const EVENT_COLUMNS = `e.id::text AS id, e.company_id AS "companyId", e.job_id AS "jobId", e.type, e.payload, e.created_at AS "createdAt"`;

interface EventRow extends Omit<JobEvent, 'createdAt'> {
  createdAt: Date;
}

const toEvent = (r: EventRow): JobEvent => ({ ...r, createdAt: r.createdAt.toISOString() });

/** Stored events after `afterId`, oldest first: the replay part of an SSE stream. */
export async function listEventsAfter(
  q: Queryable,
  f: { companyId: string; jobId?: string; afterId: string; limit: number },
): Promise<JobEvent[]> {
  const values: unknown[] = [f.companyId, f.afterId, f.limit];
  const byJob = f.jobId ? `AND e.job_id = $4` : '';
  if (f.jobId) values.push(f.jobId);
  const { rows } = await q.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM content_job_events e
     WHERE e.company_id = $1 AND e.id > $2::bigint ${byJob}
     ORDER BY e.id LIMIT $3`,
    values,
  );
  return rows.map(toEvent);
}

export async function findEventsByIds(q: Queryable, ids: string[]): Promise<JobEvent[]> {
  const { rows } = await q.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM content_job_events e WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`,
    [ids],
  );
  return rows.map(toEvent);
}

export async function latestEventId(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ id: string | null }>(`SELECT max(id)::text AS id FROM content_job_events`);
  return rows[0]?.id ?? '0';
}

export async function listEventsOfJob(q: Queryable, companyId: string, jobId: string): Promise<JobEvent[]> {
  return listEventsAfter(q, { companyId, jobId, afterId: '0', limit: 10_000 });
}
