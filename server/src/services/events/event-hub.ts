import type pg from 'pg';
import type { JobEvent } from '@kiln/shared';
import type { Database } from '@kiln/db';
import { CHANNELS } from '../jobs/job-row.js';
import { findEventsByIds, latestEventId, listEventsAfter } from './event-store.js';

export interface EventSubscription {
  companyId: string;
  /** Only this job's events, when set. */
  jobId?: string;
  deliver(event: JobEvent): void;
}

export interface EventHub {
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribe(sub: EventSubscription): () => void;
  subscriberCount(): number;
}

/**
 * One LISTEN connection per server process. A notification names an event row; the hub reads the
 * rows of companies somebody is watching, once per batch, and hands each to its subscribers. If
 * the LISTEN connection drops, it reconnects and reads what it missed by id, so live streams lose
 * nothing across a database restart.
 */
export function createEventHub(deps: { database: Database; onError?: (err: unknown) => void }): EventHub {
  const subs = new Set<EventSubscription>();
  let client: pg.Client | null = null;
  let stopped = false;
  let pending: string[] = [];
  let flushScheduled = false;
  let lastSeenId = '0';
  let reconnectTimer: NodeJS.Timeout | null = null;

  const watchedCompanies = () => new Set([...subs].map((s) => s.companyId));

  function dispatch(events: JobEvent[]) {
    for (const event of events) {
      if (BigInt(event.id) > BigInt(lastSeenId)) lastSeenId = event.id;
      for (const s of subs) {
        if (s.companyId !== event.companyId) continue;
        if (s.jobId && s.jobId !== event.jobId) continue;
        s.deliver(event);
      }
    }
  }

  // Batches are read and dispatched one after another: two reads in flight at once could return
  // out of order and deliver a later event before an earlier one, which a client resuming from
  // "the newest id I saw" would then skip. PostgreSQL delivers notifications in commit order, so
  // dispatching in notification order keeps each job's events in order.
  let flushing: Promise<void> = Promise.resolve();

  async function flush() {
    flushScheduled = false;
    const ids = pending;
    pending = [];
    if (ids.length === 0) return;
    try {
      dispatch(await findEventsByIds(deps.database.pool, ids));
    } catch (err) {
      deps.onError?.(err);
    }
  }

  function onNotification(msg: pg.Notification) {
    const [id, companyId] = (msg.payload ?? '').split(',');
    if (!id || !companyId) return;
    if (!watchedCompanies().has(companyId)) {
      if (BigInt(id) > BigInt(lastSeenId)) lastSeenId = id;
      return;
    }
    pending.push(id);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(() => {
        flushing = flushing.then(flush);
      });
    }
  }

  async function connect() {
    const c = await deps.database.connectDedicated();
    c.on('notification', onNotification);
    c.on('error', (err) => {
      deps.onError?.(err);
      scheduleReconnect();
    });
    c.on('end', scheduleReconnect);
    await c.query(`LISTEN ${CHANNELS.events}`);
    client = c;
  }

  async function catchUp() {
    for (const companyId of watchedCompanies()) {
      const missed = await listEventsAfter(deps.database.pool, { companyId, afterId: lastSeenId, limit: 10_000 });
      dispatch(missed);
    }
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    client = null;
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = null;
      try {
        await connect();
        await catchUp();
      } catch (err) {
        deps.onError?.(err);
        scheduleReconnect();
      }
    }, 500);
  }

  return {
    async start() {
      lastSeenId = await latestEventId(deps.database.pool);
      await connect();
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
    subscribe(sub) {
      subs.add(sub);
      return () => subs.delete(sub);
    },
    subscriberCount: () => subs.size,
  };
}
