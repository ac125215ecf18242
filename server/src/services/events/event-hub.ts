import type pg from 'pg';
import type { Database } from '@kiln/db';
import { CHANNELS } from '../jobs/job-row.js';
import { comparePositions, eventHorizon, horizonPosition, listEventsBetween, positionOf, type EventPosition, type StoredEvent } from './event-store.js';

export interface EventSubscription {
  companyId: string;
  /** Only this job's events, when set. */
  jobId?: string;
  deliver(event: StoredEvent): void;
}

export interface EventHub {
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribe(sub: EventSubscription): () => void;
  subscriberCount(): number;
}

const PAGE = 1000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;
/** While a notified event waits below a held-back horizon, look again after this long (doubling to 1 s). */
const HELD_BACK_RETRY_MS = 25;

/**
 * One LISTEN connection per server process, and one cursor: a position in commit order (see
 * event-store.ts). A notification only says "something happened"; the hub then reads, in one
 * serialised pass, every event of the watched companies between its cursor and the current
 * horizon, in order, without a row limit (page after page), and hands each to its subscribers.
 * Catch-up after the LISTEN connection drops is the same pass: nothing is skipped for any
 * company, whatever happened while it was away. Each stream does its own replay from its own
 * position when it opens (event-stream.ts), so a subscriber never depends on when the hub's
 * cursor last moved.
 */
export function createEventHub(deps: { database: Database; onError?: (err: unknown) => void }): EventHub {
  const pool = deps.database.pool;
  /**
   * Subscriptions by company, then by job (`null`: the company's own streams), so an event costs
   * its own subscribers only — never a walk over every stream the process holds.
   */
  const byCompany = new Map<string, Map<string | null, Set<EventSubscription>>>();
  let subscriberCount = 0;
  let client: pg.Client | null = null;
  let stopped = false;
  let cursor: EventPosition = { xid: '0', id: '0' };
  let reconnectTimer: NodeJS.Timeout | null = null;
  let reconnectDelay = RECONNECT_MIN_MS;
  let connecting = false;
  let pumping: Promise<void> | null = null;
  let pumpAgain = false;
  let heldBackTimer: NodeJS.Timeout | null = null;
  let heldBackDelay = HELD_BACK_RETRY_MS;
  /** Notified event ids of watched companies not yet dispatched: held back by the horizon. */
  const awaited = new Set<string>();

  const watchedCompanies = () => [...byCompany.keys()];

  function dispatch(event: StoredEvent) {
    awaited.delete(event.id);
    const company = byCompany.get(event.companyId);
    if (!company) return;
    // The company's streams, then the job's. A delivery may unsubscribe (a job stream closes after
    // its terminal event); a Set's iteration copes with that.
    const all = company.get(null);
    if (all) for (const s of all) s.deliver(event);
    const job = event.jobId ? company.get(event.jobId) : undefined;
    if (job) for (const s of job) s.deliver(event);
  }

  async function pumpOnce() {
    const horizon = await eventHorizon(pool);
    const companyIds = watchedCompanies();
    for (;;) {
      const page = await listEventsBetween(pool, { companyIds, after: cursor, horizon, limit: PAGE });
      for (const e of page) {
        dispatch(e);
        cursor = positionOf(e);
      }
      if (page.length < PAGE) break;
    }
    const past = horizonPosition(horizon);
    if (comparePositions(past, cursor) > 0) cursor = past;
  }

  /** Pumps are serialised: a request during a pump makes it go round once more. */
  function requestPump() {
    if (stopped) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = (async () => {
      try {
        do {
          pumpAgain = false;
          await pumpOnce();
        } while (pumpAgain && !stopped);
        if (awaited.size > 0) scheduleHeldBackRetry();
        else heldBackDelay = HELD_BACK_RETRY_MS;
      } catch (err) {
        deps.onError?.(err);
        scheduleHeldBackRetry();
      }
    })().finally(() => {
      pumping = null;
    });
  }

  /**
   * An event was notified but sits above the horizon because an older Kiln transaction is still
   * open. That transaction's own notification (if it writes events) will wake us; if it writes
   * none, this retry does.
   */
  function scheduleHeldBackRetry() {
    if (stopped || heldBackTimer) return;
    heldBackTimer = setTimeout(() => {
      heldBackTimer = null;
      requestPump();
    }, heldBackDelay);
    heldBackTimer.unref();
    heldBackDelay = Math.min(1000, heldBackDelay * 2);
  }

  function onNotification(msg: pg.Notification) {
    const [id, companyId] = (msg.payload ?? '').split(',');
    if (!id || !companyId) return;
    // Nobody listening: nothing to read. The cursor may fall behind meanwhile; the next pump reads
    // from it only the watched companies' events, and each stream drops what precedes its own start.
    if (subscriberCount === 0) return;
    if (byCompany.has(companyId)) awaited.add(id);
    // Unwatched companies' events also pump: that keeps the cursor near the present, so a new
    // subscriber's company is read from close to now.
    requestPump();
  }

  async function connect() {
    const c = await deps.database.connectDedicated('kiln-events');
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = null;
      if (err) deps.onError?.(err);
      scheduleReconnect();
    };
    c.on('notification', onNotification);
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.query(`LISTEN ${CHANNELS.events}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    client = c;
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer || connecting) return;
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = null;
      connecting = true;
      try {
        await connect();
        reconnectDelay = RECONNECT_MIN_MS;
        if (stopped) {
          await client?.end().catch(() => undefined);
          return;
        }
        requestPump(); // catch up on whatever happened while we were away
      } catch (err) {
        deps.onError?.(err);
        reconnectDelay = Math.min(RECONNECT_MAX_MS, reconnectDelay * 2);
        connecting = false;
        scheduleReconnect();
        return;
      }
      connecting = false;
    }, reconnectDelay);
    reconnectTimer.unref();
  }

  return {
    async start() {
      cursor = horizonPosition(await eventHorizon(pool));
      await connect();
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (heldBackTimer) clearTimeout(heldBackTimer);
      await pumping?.catch(() => undefined);
      const c = client;
      client = null;
      if (c) await c.end().catch(() => undefined);
    },
    subscribe(sub) {
      const companyId = sub.companyId;
      const key = sub.jobId || null;
      let company = byCompany.get(companyId);
      if (!company) byCompany.set(companyId, (company = new Map()));
      let set = company.get(key);
      if (!set) company.set(key, (set = new Set()));
      set.add(sub);
      subscriberCount++;
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        subscriberCount--;
        set!.delete(sub);
        if (set!.size === 0 && company!.get(key) === set) company!.delete(key);
        if (company!.size === 0 && byCompany.get(companyId) === company) byCompany.delete(companyId);
      };
    },
    subscriberCount: () => subscriberCount,
  };
}
