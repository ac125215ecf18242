import { hostname } from 'node:os';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import type { Database } from '@kiln/db';
import { claimJobs, heartbeat, reapLostJobs, releaseOrphanedJobs, WORKER_LOCK_CLASS, type TransactionRunner } from '../services/jobs/job-queue.js';
import { CHANNELS } from '../services/jobs/job-row.js';
import type { StorageService } from '../services/storage/storage-service.js';
import { createTransactionRunner } from '../db/transactions.js';
import { createRenderPool, type RenderPool } from './render-pool.js';
import { JobAbort, runJob } from './job-runner.js';
import { sweepOrphans } from './orphan-sweeper.js';
import { createWebhookDispatcher, type WebhookDispatchSettings } from '../services/webhooks/webhook-dispatcher.js';

export interface WorkerOptions {
  database: Database;
  storage: StorageService;
  concurrency: number;
  maxAssetBytes: number;
  dataDir: string;
  orphanGraceMs: number;
  /** Modules exporting `renderers: Renderer[]`, loaded into every render thread beside the built-ins. */
  rendererModules?: string[];
  log: {
    info(obj: Record<string, unknown>, msg: string): void;
    warn(obj: Record<string, unknown>, msg: string): void;
    error(obj: Record<string, unknown>, msg: string): void;
  };
  /** Tests shorten these; production uses the ARCHITECTURE values. */
  pollIntervalMs?: number;
  webhookIntervalMs?: number;
  /** Absolute base for asset URLs in webhook payloads. */
  publicUrl?: string;
  /** Outbound guard and send pool settings of the webhook dispatcher. */
  webhooks?: WebhookDispatchSettings;
  heartbeatIntervalMs?: number;
  reapIntervalMs?: number;
  sweepIntervalMs?: number;
}

export interface Worker {
  readonly id: string;
  start(): Promise<void>;
  /** Stops claiming; running jobs are handed back to the queue after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  running(): boolean;
  activeJobIds(): string[];
}

/**
 * The worker runtime: claims jobs up to its concurrency, runs them in render threads, sends one
 * heartbeat query every 2 s for all of them, and reaps jobs of dead workers. It holds a session
 * advisory lock on a dedicated connection for its whole life; that lock is how other workers
 * know it is alive. The same connection LISTENs for queue wake-ups and cancellations.
 */
export function createWorker(opts: WorkerOptions): Worker {
  const lockKey = randomInt(1, 2 ** 31 - 1);
  const id = `w${lockKey}@${hostname()}:${process.pid}`;
  const tx: TransactionRunner = createTransactionRunner(opts.database);
  const pool = opts.database.pool;
  const active = new Map<string, AbortController>();
  const timers: NodeJS.Timeout[] = [];
  let renderPool: RenderPool | null = null;
  let lockClient: pg.Client | null = null;
  let started = false;
  let stopping = false;
  let claiming = false;
  let claimAgain = false;
  let reaping = false;
  const webhooks = createWebhookDispatcher({ ...opts.webhooks, pool, baseUrl: opts.publicUrl, intervalMs: opts.webhookIntervalMs, log: opts.log });

  const log = opts.log;

  async function connectLockClient() {
    const client = await opts.database.connectDedicated();
    client.on('error', (err) => {
      log.error({ err: err.message, workerId: id }, 'worker connection lost; reconnecting');
      lockClient = null;
      setTimeout(() => void reconnect(), 500);
    });
    await client.query('SELECT pg_advisory_lock($1, $2)', [WORKER_LOCK_CLASS, lockKey]);
    client.on('notification', (msg) => {
      if (msg.channel === CHANNELS.queue) triggerClaim();
      else if (msg.channel === CHANNELS.cancel && msg.payload) active.get(msg.payload)?.abort(new JobAbort('canceled'));
    });
    await client.query(`LISTEN ${CHANNELS.queue}`);
    await client.query(`LISTEN ${CHANNELS.cancel}`);
    lockClient = client;
  }

  async function reconnect() {
    if (stopping || lockClient) return;
    try {
      await connectLockClient();
      triggerClaim();
    } catch {
      setTimeout(() => void reconnect(), 1000);
    }
  }

  function triggerClaim() {
    if (!started || stopping) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    void claimLoop();
  }

  async function claimLoop() {
    claiming = true;
    try {
      do {
        claimAgain = false;
        const free = opts.concurrency - active.size;
        if (free <= 0 || !lockClient) break;
        const jobs = await claimJobs(tx, id, free);
        for (const job of jobs) {
          const controller = new AbortController();
          active.set(job.id, controller);
          void runJob(
            {
              pool,
              tx,
              storage: opts.storage,
              renderPool: renderPool!,
              workerId: id,
              maxAssetBytes: opts.maxAssetBytes,
              tmpRoot: path.join(opts.dataDir, 'tmp'),
              log: (obj, msg) => log.info({ workerId: id, ...obj }, msg),
            },
            job,
            controller,
          )
            .catch((err) => log.error({ jobId: job.id, err: String(err) }, 'job runner failed'))
            .finally(() => {
              active.delete(job.id);
              triggerClaim();
            });
        }
        if (jobs.length === free) claimAgain = true;
      } while (claimAgain && !stopping);
    } catch (err) {
      log.warn({ err: String(err), workerId: id }, 'claim failed');
    } finally {
      claiming = false;
    }
  }

  async function beat() {
    // Only jobs that were running here before the query started can be judged by its answer:
    // a job claimed while the heartbeat was in flight is missing from a snapshot taken before
    // the claim committed, and must not be mistaken for one another worker took over.
    const checked = new Set(active.keys());
    const claimInFlight = claiming;
    try {
      const hb = await heartbeat(pool, id);
      for (const jobId of checked) {
        const controller = active.get(jobId);
        if (!controller) continue;
        if (hb.cancelRequested.has(jobId)) controller.abort(new JobAbort('canceled'));
        else if (!hb.owned.has(jobId)) controller.abort(new JobAbort('lost'));
      }
      // The other direction: rows that say this live worker runs them, but nothing here does
      // (its runner died without a transition). The reaper skips a live worker's jobs, so
      // nobody else would ever release them.
      if (!claimInFlight && !claiming) {
        const orphans = [...hb.owned].filter((jobId) => !active.has(jobId) && !checked.has(jobId));
        if (orphans.length > 0) {
          const n = await releaseOrphanedJobs(pool, id, orphans);
          if (n > 0) {
            log.warn({ workerId: id, jobs: orphans }, 'released jobs this worker had lost track of');
            triggerClaim();
          }
        }
      }
    } catch (err) {
      log.warn({ err: String(err), workerId: id }, 'heartbeat failed');
    }
  }

  async function reap() {
    if (reaping) return;
    reaping = true;
    try {
      const n = await reapLostJobs(tx, pool, id);
      if (n > 0) {
        log.info({ workerId: id, jobs: n }, 'requeued jobs of a lost worker');
        triggerClaim();
      }
    } catch (err) {
      log.warn({ err: String(err), workerId: id }, 'reaper failed');
    } finally {
      reaping = false;
    }
  }

  async function sweep() {
    try {
      const r = await sweepOrphans({ pool, storage: opts.storage, graceMs: opts.orphanGraceMs });
      if (r.orphans + r.partials > 0) log.info({ ...r }, 'swept orphaned files');
    } catch (err) {
      log.warn({ err: String(err) }, 'orphan sweep failed');
    }
  }

  return {
    id,
    async start() {
      renderPool = createRenderPool({ size: opts.concurrency, rendererModules: opts.rendererModules });
      // Threads load every renderer (seconds on 2 cores); do it beside start-up, not before it.
      // A job claimed meanwhile simply waits for its thread to be ready.
      renderPool.warm().catch((err) => log.error({ err: String(err) }, 'render threads failed to start'));
      await connectLockClient();
      started = true;
      const every = (ms: number, fn: () => unknown) => {
        const t = setInterval(fn, ms);
        t.unref();
        timers.push(t);
      };
      every(opts.pollIntervalMs ?? 2000, triggerClaim);
      every(opts.heartbeatIntervalMs ?? 2000, beat);
      every(opts.reapIntervalMs ?? 1000, reap);
      every(opts.sweepIntervalMs ?? 10 * 60_000, sweep);
      webhooks.start();
      void reap();
      triggerClaim();
    },
    async stop(graceMs = 5000) {
      if (stopping) return;
      stopping = true;
      for (const t of timers) clearInterval(t);
      const deadline = Date.now() + graceMs;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const controller of active.values()) controller.abort(new JobAbort('shutdown'));
      while (active.size > 0) await new Promise((r) => setTimeout(r, 20));
      await webhooks.stop();
      await renderPool?.close();
      const c = lockClient;
      lockClient = null;
      if (c) {
        c.removeAllListeners('error');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
    running: () => started && !stopping && lockClient !== null,
    activeJobIds: () => [...active.keys()],
  };
}
