import { TERMINAL_EVENT_TYPES } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';
import { retryThroughOutage } from '../../db/database-errors.js';
import type { SseStream } from '../../http/sse-stream.js';
import type { EventHub } from './event-hub.js';
import {
  comparePositions, eventHorizon, horizonPosition, listEventsBetween, positionOf, positionOfEventId, START, terminalEventPosition,
  type EventPosition, type StoredEvent,
} from './event-store.js';

const REPLAY_PAGE = 1000;
/** How long an open stream waits for the database to come back before it gives up (and closes). */
const REPLAY_PATIENCE_MS = 60_000;

function closedSignal(sse: SseStream): AbortSignal {
  const controller = new AbortController();
  sse.onClose(() => controller.abort());
  return controller.signal;
}

/** Where a stream starts: everything (a job's stream), after an event id (resume), or now (live only). */
export type StreamStart = { from: 'beginning' } | { from: 'after'; eventId: string } | { from: 'now' };

export interface EventStreamOptions {
  hub: EventHub;
  pool: Queryable;
  sse: SseStream;
  companyId: string;
  /** A job's own stream (closes after its terminal event) or, when absent, the company's. */
  jobId?: string;
  start: StreamStart;
  snapshot: () => Promise<{ data: unknown; terminal: boolean }>;
}

/**
 * snapshot → stored events after the stream's start → live events, in commit order, with no gap
 * and no repeat. The hub subscription is made first and buffers while the replay runs; the replay
 * reads up to a horizon computed after subscribing, and the hub delivers only events that were
 * not final before that horizon existed (see event-hub.ts), so between them they cover
 * everything. Every event is emitted only if it comes after the last one emitted, which removes
 * the overlap and anything older than the start.
 */
export async function streamEvents(o: EventStreamOptions): Promise<void> {
  let last: EventPosition | null = null;
  let live = false;
  const buffered: StoredEvent[] = [];

  const emit = (e: StoredEvent) => {
    if (o.sse.closed || !last || comparePositions(e, last) <= 0) return;
    last = positionOf(e);
    o.sse.send({ id: e.id, event: e.type, data: { ...e.payload, eventId: e.id, createdAt: e.createdAt } });
    if (o.jobId && TERMINAL_EVENT_TYPES.includes(e.type)) o.sse.close();
  };

  const unsubscribe = o.hub.subscribe({
    companyId: o.companyId,
    jobId: o.jobId,
    deliver: (e) => (live ? emit(e) : buffered.push(e)),
  });
  o.sse.onClose(unsubscribe);

  // A stream that opened keeps trying through a database outage (its client would otherwise see
  // a stream end with no terminal event); the client's own reconnect covers longer ones.
  const closed = closedSignal(o.sse);
  const read = <T>(fn: () => Promise<T>) => retryThroughOutage(fn, { deadline: Date.now() + REPLAY_PATIENCE_MS, signal: closed });
  try {
    const snapshot = await read(o.snapshot);
    o.sse.send({ event: 'snapshot', data: snapshot.data });
    const horizon = await read(() => eventHorizon(o.pool));
    if (o.start.from === 'now') last = horizonPosition(horizon);
    else if (o.start.from === 'beginning') last = START;
    else {
      const eventId = o.start.eventId;
      last = (await read(() => positionOfEventId(o.pool, o.companyId, eventId))) ?? horizonPosition(horizon);
    }

    let after: EventPosition = last;
    while (o.start.from !== 'now' && !o.sse.closed) {
      const from = after;
      const page = await read(() => listEventsBetween(o.pool, { companyIds: [o.companyId], jobId: o.jobId, after: from, horizon, limit: REPLAY_PAGE }));
      page.forEach(emit);
      if (page.length < REPLAY_PAGE) break;
      after = positionOf(page[page.length - 1]!);
    }
    live = true;
    buffered.sort(comparePositions).forEach(emit);
    buffered.length = 0;
    // The job had ended when the snapshot was read, but its terminal event was not emitted: the
    // client resumed after it (close now), or it is held back above the horizon by an older
    // transaction still open (the hub will deliver it, and that closes the stream).
    if (o.jobId && snapshot.terminal && !o.sse.closed) {
      const jobId = o.jobId;
      const terminal = await read(() => terminalEventPosition(o.pool, o.companyId, jobId));
      if (!terminal || comparePositions(terminal, last) <= 0) o.sse.close();
    }
  } catch (err) {
    o.sse.close();
    throw err;
  }
}
