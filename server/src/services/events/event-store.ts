import type { JobEvent } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';

/**
 * Where an event stands in commit order: the writing transaction's id, then the event id. Events
 * are delivered and resumed in this order, and only below the horizon (see the migration that
 * defines kiln_event_horizon), so an event that commits late can never land behind a position a
 * reader has already passed.
 */
export interface EventPosition {
  xid: string;
  id: string;
}

export interface StoredEvent extends JobEvent {
  xid: string;
}

/** Before every event. */
export const START: EventPosition = { xid: '0', id: '0' };

const EVENT_COLUMNS = `e.id::text AS id, e.xid::text AS xid, e.company_id AS "companyId", e.job_id AS "jobId", e.type, e.payload, e.created_at AS "createdAt"`;

interface EventRow extends Omit<StoredEvent, 'createdAt'> {
  createdAt: Date;
}

const toEvent = (r: EventRow): StoredEvent => ({ ...r, createdAt: r.createdAt.toISOString() });

/**
 * The position below which every event is final. Read it in its own statement, *before* the
 * events it bounds: the events query must see a snapshot taken after the horizon was computed.
 */
export async function eventHorizon(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ h: string }>(`SELECT kiln_event_horizon()::text AS h`);
  return rows[0]!.h;
}

export const positionOf = (e: { xid: string; id: string }): EventPosition => ({ xid: e.xid, id: e.id });

/** The position just past every event below `horizon` (a cursor may jump there once all are read). */
export const horizonPosition = (horizon: string): EventPosition => ({ xid: horizon, id: '0' });

/** Orders positions: negative when a is before b. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  const x = BigInt(a.xid) - BigInt(b.xid);
  if (x !== 0n) return x < 0n ? -1 : 1;
  const i = BigInt(a.id) - BigInt(b.id);
  return i === 0n ? 0 : i < 0n ? -1 : 1;
}

/**
 * Events after `after` and below `horizon`, in commit order, of the given companies (and job).
 * The replay part of an SSE stream, and what the hub dispatches.
 */
export async function listEventsBetween(
  q: Queryable,
  f: { companyIds: string[]; jobId?: string; after: EventPosition; horizon: string; limit: number },
): Promise<StoredEvent[]> {
  if (f.companyIds.length === 0) return [];
  const values: unknown[] = [f.companyIds, f.after.xid, f.after.id, f.horizon, f.limit];
  const byJob = f.jobId ? `AND e.job_id = $6` : '';
  if (f.jobId) values.push(f.jobId);
  const { rows } = await q.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM content_job_events e
     WHERE e.company_id = ANY($1::uuid[]) AND (e.xid, e.id) > ($2::xid8, $3::bigint) AND e.xid < $4::xid8 ${byJob}
     ORDER BY e.xid, e.id LIMIT $5`,
    values,
  );
  return rows.map(toEvent);
}

/**
 * The position of event `eventId` of the company — what a `Last-Event-ID` means. When the event
 * is gone (pruned after the retention period) or never existed, the nearest earlier position
 * that can be known is used: the first later event's transaction, just before it. Null when no
 * event has that id or a later one: the reader is up to date, and continues live.
 */
export async function positionOfEventId(q: Queryable, companyId: string, eventId: string): Promise<EventPosition | null> {
  const { rows } = await q.query<{ xid: string; id: string }>(
    `(SELECT e.xid::text AS xid, e.id::text AS id FROM content_job_events e WHERE e.company_id = $1 AND e.id = $2::bigint)
     UNION ALL
     (SELECT e.xid::text, ($2::bigint)::text FROM content_job_events e WHERE e.company_id = $1 AND e.id > $2::bigint ORDER BY e.id LIMIT 1)
     LIMIT 1`,
    [companyId, eventId],
  );
  return rows[0] ?? null;
}

export async function listEventsOfJob(q: Queryable, companyId: string, jobId: string): Promise<StoredEvent[]> {
  const { rows } = await q.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM content_job_events e WHERE e.company_id = $1 AND e.job_id = $2 ORDER BY e.xid, e.id`,
    [companyId, jobId],
  );
  return rows.map(toEvent);
}

/** Position of a job's terminal event (done, failed or canceled), if it has one. */
export async function terminalEventPosition(q: Queryable, companyId: string, jobId: string): Promise<EventPosition | null> {
  const { rows } = await q.query<EventPosition>(
    `SELECT e.xid::text AS xid, e.id::text AS id FROM content_job_events e
     WHERE e.company_id = $1 AND e.job_id = $2 AND e.type IN ('content_job.done', 'content_job.failed', 'content_job.canceled')
     ORDER BY e.xid DESC, e.id DESC LIMIT 1`,
    [companyId, jobId],
  );
  return rows[0] ?? null;
}
