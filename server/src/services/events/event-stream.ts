import { TERMINAL_EVENT_TYPES, type JobEvent } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';
import type { SseStream } from '../../http/sse-stream.js';
import type { EventHub } from './event-hub.js';
import { listEventsAfter } from './event-store.js';

const REPLAY_PAGE = 1000;

export interface EventStreamOptions {
  hub: EventHub;
  pool: Queryable;
  sse: SseStream;
  companyId: string;
  /** A job's own stream (closes after its terminal event) or, when absent, the company's. */
  jobId?: string;
  /** Replay stored events after this id; null means live only. */
  replayAfter: string | null;
  snapshot: () => Promise<{ data: unknown; terminal: boolean }>;
}

/**
 * snapshot → stored events after the resume point → live events, with no gap and no repeat:
 * the hub subscription starts before the snapshot and buffers until the replay is done; ids
 * already sent are skipped when the buffer drains.
 */
export async function streamEvents(o: EventStreamOptions): Promise<void> {
  const sent = new Set<string>();
  let live = false;
  const buffered: JobEvent[] = [];

  const emit = (e: JobEvent) => {
    if (o.sse.closed || sent.has(e.id)) return;
    sent.add(e.id);
    o.sse.send({ id: e.id, event: e.type, data: { ...e.payload, eventId: e.id, createdAt: e.createdAt } });
    if (o.jobId && TERMINAL_EVENT_TYPES.includes(e.type)) o.sse.close();
  };

  const unsubscribe = o.hub.subscribe({
    companyId: o.companyId,
    jobId: o.jobId,
    deliver: (e) => (live ? emit(e) : buffered.push(e)),
  });
  o.sse.onClose(unsubscribe);

  try {
    const snapshot = await o.snapshot();
    o.sse.send({ event: 'snapshot', data: snapshot.data });
    let after = o.replayAfter;
    while (after !== null && !o.sse.closed) {
      const page = await listEventsAfter(o.pool, { companyId: o.companyId, jobId: o.jobId, afterId: after, limit: REPLAY_PAGE });
      page.forEach(emit);
      after = page.length === REPLAY_PAGE ? page[page.length - 1]!.id : null;
    }
    live = true;
    buffered.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)).forEach(emit);
    buffered.length = 0;
    // Resumed after the terminal event, or the job ended before any event could be replayed.
    if (o.jobId && snapshot.terminal) o.sse.close();
  } catch (err) {
    o.sse.close();
    throw err;
  }
}
