import type pg from 'pg';
import type { Database } from '@kiln/db';
import type { Queryable } from '../services/jobs/job-row.js';
import { CHANNELS } from '../services/jobs/job-row.js';
import { WORKER_LOCK_CLASS } from '../services/jobs/job-queue.js';

export interface WorkerConnection extends Queryable {
  /** Connects, takes the worker's lock and LISTENs; resolves once all three are done. */
  open(): Promise<void>;
  /** True while connected with the lock held. */
  connected(): boolean;
  close(): Promise<void>;
}

export interface WorkerConnectionDeps {
  database: Database;
  workerId: string;
  lockKey: number;
  onQueueNotification(): void;
  onCancelNotification(jobId: string): void;
  /** After a reconnect: the lock is held again and notifications may have been missed. */
  onReconnected(): void;
  log: { warn(obj: Record<string, unknown>, msg: string): void };
}

const RECONNECT_MIN_MS = 250;
/** Capped low: after a PostgreSQL restart other workers wait LEASE_SECONDS before a free lock counts. */
const RECONNECT_MAX_MS = 2000;

/**
 * The worker's own connection, outside every pool. It holds the session advisory lock that tells
 * other workers this one is alive, LISTENs for queue wake-ups and cancellations, and carries the
 * heartbeat — so a saturated request pool can never make a live worker look dead.
 *
 * When it drops, it reconnects with backoff (one attempt at a time, however many 'error' events
 * arrive). The lock is taken with try-lock in a loop rather than a blocking pg_advisory_lock: if
 * the old session lingers half-open on the server, a blocking call would hang forever.
 */
export function createWorkerConnection(deps: WorkerConnectionDeps): WorkerConnection {
  let client: pg.Client | null = null;
  let ready = false;
  let closed = false;
  let reconnecting: Promise<void> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;

  async function connectOnce(): Promise<pg.Client> {
    const c = await deps.database.connectDedicated('kiln-worker');
    try {
      for (;;) {
        const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [WORKER_LOCK_CLASS, deps.lockKey]);
        if (rows[0]!.ok) break;
        if (closed) throw new Error('closed');
        await new Promise((r) => setTimeout(r, 500));
      }
      await c.query(`LISTEN ${CHANNELS.queue}`);
      await c.query(`LISTEN ${CHANNELS.cancel}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    c.on('notification', (msg) => {
      if (msg.channel === CHANNELS.queue) deps.onQueueNotification();
      else if (msg.channel === CHANNELS.cancel && msg.payload) deps.onCancelNotification(msg.payload);
    });
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = null;
      ready = false;
      if (!closed) {
        deps.log.warn({ workerId: deps.workerId, err: err?.message }, 'worker connection lost; reconnecting');
        scheduleReconnect(RECONNECT_MIN_MS);
      }
    };
    c.on('error', lost);
    c.on('end', () => lost());
    return c;
  }

  function scheduleReconnect(delay: number) {
    if (closed || reconnecting || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      reconnecting = connectOnce().then(
        (c) => {
          reconnecting = null;
          if (closed) return void c.end().catch(() => undefined);
          client = c;
          ready = true;
          deps.onReconnected();
        },
        () => {
          reconnecting = null;
          scheduleReconnect(Math.min(RECONNECT_MAX_MS, delay * 2));
        },
      );
    }, delay);
    retryTimer.unref();
  }

  return {
    async open() {
      client = await connectOnce();
      ready = true;
    },
    connected: () => ready && client !== null,
    async query(text: string | { name: string; text: string; values: unknown[] }, values?: unknown[]) {
      const c = client;
      if (!c || !ready) throw Object.assign(new Error('Connection terminated: worker connection not open'), { code: '08003' });
      return (typeof text === 'string' ? c.query(text, values as unknown[]) : c.query(text)) as never;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await reconnecting?.catch(() => undefined);
      const c = client;
      client = null;
      ready = false;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
