import { hostname } from 'node:os';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { Database } from '@kiln/db';
import { reapLostJobs } from '../services/jobs/job-queue.js';
import type { StorageService } from '../services/storage/storage-service.js';
import { createTransactionRunner } from '../db/transactions.js';
import { createRenderPool } from '../render-processes/render-pool.js';
import { createWebhookDispatcher, type WebhookDispatchSettings } from '../services/webhooks/webhook-dispatcher.js';
import { JobAbort, runJob } from './job-runner.js';
import { sweepOrphans } from './orphan-sweeper.js';
import { createWorkerConnection } from './worker-connection.js';
import { createClaimLoop } from './claim-loop.js';
import { slotGroupsOf } from './slot-groups.js';
import type { JobRow } from '../services/jobs/job-row.js';
import { OUTPUT_PREVIEW_MODULE, type RendererRegistry } from '@kiln/renderers';
import { createJobHeartbeat } from './job-heartbeat.js';
import { periodicTask } from './periodic-task.js';
import { scratchRootName, sweepDeadWorkersScratch } from './scratch-sweeper.js';
import { pruneOldRows } from './retention.js';
import type { WorkerObserver } from './worker-observer.js';

export interface WorkerLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface WorkerTiming {
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  reapIntervalMs?: number;
  sweepIntervalMs?: number;
  scratchSweepIntervalMs?: number;
  retentionIntervalMs?: number;
  webhookIntervalMs?: number;
}

export interface WorkerOptions {
  database: Database;
  storage: StorageService;
  /** Every kind this worker can run (it claims only those). */
  renderers: RendererRegistry;
  concurrency: number;
  maxAssetBytes: number;
  dataDir: string;
  orphanGraceMs: number;
  retentionDays: number;
  /** Resident memory ceiling of each render process. */
  renderMemoryMb: number;
  /** Modules exporting `renderers: Renderer[]`, loaded into every render process beside the built-ins. */
  rendererModules?: string[];
  log: WorkerLog;
  /** Absolute base for asset URLs in webhook payloads. */
  publicUrl?: string;
  /** Tests shorten these; production uses the architecture's values. */
  timing?: WorkerTiming;
  /** Outbound guard and send pool settings of the webhook dispatcher. */
  webhooks?: WebhookDispatchSettings;
  /** Told of claims, ended attempts and webhook outcomes (the process's metrics). */
  observer?: WorkerObserver;
}

export interface Worker {
  readonly id: string;
  start(): Promise<void>;
  /**
   * Stops claiming, lets running jobs finish for up to `graceMs`, then aborts the rest (they go
   * back to the queue in their old place, attempt not counted) and waits for every one of them —
   * claims in flight included — before closing its processes and connections.
   */
  stop(graceMs?: number): Promise<void>;
  running(): boolean;
  activeJobIds(): string[];
}

/**
 * The worker runtime, built from parts with one job each: its dedicated connection (liveness lock,
 * LISTEN, heartbeat), the claim loop, the job runners (renders in render processes), the
 * heartbeat, the reaper of dead workers' jobs, the sweepers (orphaned files, dead workers' scratch
 * folders, old rows) and the webhook sender. Its queries go through a pool of its own, so a busy
 * API in the same process cannot starve it.
 */
export function createWorker(opts: WorkerOptions): Worker {
  const lockKey = randomInt(1, 2 ** 31 - 1);
  const id = `w${lockKey}@${hostname()}:${process.pid}`;
  const t = opts.timing ?? {};
  const log = opts.log;
  const pool = opts.database.createPool({
    maxConnections: opts.concurrency * 2 + 4,
    acquireTimeoutMs: 10_000,
    applicationName: 'kiln-worker',
  });
  const tx = createTransactionRunner(pool);
  const tmpDir = path.join(opts.dataDir, 'tmp');
  const tmpRoot = path.join(tmpDir, scratchRootName(lockKey));
  const active = new Map<string, AbortController>();
  const groups = slotGroupsOf(opts.renderers, opts.concurrency);
  const activeIn = new Map(groups.map((g) => [g.name, 0]));
  const groupKinds = new Map(groups.map((g) => [g.name, g.kinds]));
  /** Completions that also claim a successor, in flight (claims the heartbeat must wait for). */
  let completionsClaiming = 0;
  const runners = new Set<Promise<void>>();
  // The worker's render processes also know the internal kind that previews in-worker kinds' outputs.
  const renderModules = [...(opts.rendererModules ?? []), OUTPUT_PREVIEW_MODULE];
  const renderPool = createRenderPool({ size: opts.concurrency, rendererModules: renderModules, memoryLimitMb: opts.renderMemoryMb });
  let started = false;
  let stopping = false;

  const warnOf = (what: string) => (err: unknown) => log.warn({ err: String(err), workerId: id }, what);

  const connection = createWorkerConnection({
    database: opts.database,
    workerId: id,
    lockKey,
    onQueueNotification: () => triggerClaims(),
    onCancelNotification: (jobId) => active.get(jobId)?.abort(new JobAbort('canceled')),
    onReconnected: () => {
      void heartbeatTask.runNow();
      triggerClaims();
    },
    log,
  });

  const claimLoops = groups.map((group) =>
    createClaimLoop({
      pool,
      workerId: id,
      kinds: group.kinds,
      freeSlots: () => group.size - activeIn.get(group.name)!,
      ready: () => started && !stopping && connection.connected(),
      onClaimed: (job) => startJob(job, group.name),
      onError: warnOf('claim failed'),
    }),
  );
  const triggerClaims = () => claimLoops.forEach((loop) => loop.trigger());

  function startJob(job: JobRow, group: string) {
    const controller = new AbortController();
    active.set(job.id, controller);
    activeIn.set(group, activeIn.get(group)! + 1);
    const claimedAt = performance.now();
    opts.observer?.jobClaimed(job);
    const runner = runJob(
      {
        pool,
        tx,
        storage: opts.storage,
        renderPool,
        renderers: opts.renderers,
        // The slot claims its next job right after the completion, without waiting for the claim
        // loop's round and the scratch folder's removal (bench/worker-drain.ts: ~375–400 jobs/s
        // with it, ~355–365 without).
        next: {
          kinds: groupKinds.get(group)!,
          wanted: () => started && !stopping && connection.connected(),
          start: (claimed) => claimed.forEach((j) => startJob(j, group)),
          track: async (claiming) => {
            completionsClaiming++;
            try {
              return await claiming;
            } finally {
              completionsClaiming--;
            }
          },
        },
        workerId: id,
        maxAssetBytes: opts.maxAssetBytes,
        tmpRoot,
        log: (obj, msg) => log.info({ workerId: id, ...obj }, msg),
        onSettled: (status) => opts.observer?.jobEnded(job, status, (performance.now() - claimedAt) / 1000),
      },
      job,
      controller,
    )
      .catch((err) => log.error({ jobId: job.id, err: String(err) }, 'job runner failed'))
      .finally(() => {
        active.delete(job.id);
        activeIn.set(group, activeIn.get(group)! - 1);
        runners.delete(runner);
        triggerClaims();
      });
    runners.add(runner);
  }

  const heartbeatTask = periodicTask(
    t.heartbeatIntervalMs ?? 1000,
    createJobHeartbeat({
      connection,
      tx,
      workerId: id,
      active,
      claimInFlight: () => completionsClaiming > 0 || claimLoops.some((loop) => loop.inFlight()),
      onReleased: (n) => {
        log.warn({ workerId: id, jobs: n }, 'released jobs this worker had lost track of');
        triggerClaims();
      },
    }),
    warnOf('heartbeat failed'),
  );
  const pollTask = periodicTask(t.pollIntervalMs ?? 2000, async () => triggerClaims(), warnOf('poll failed'));
  const reaperTask = periodicTask(
    t.reapIntervalMs ?? 1000,
    async () => {
      const n = await reapLostJobs(tx, pool, id);
      if (n > 0) {
        log.info({ workerId: id, jobs: n }, 'requeued jobs of a lost worker');
        triggerClaims();
      }
    },
    warnOf('reaper failed'),
  );
  const orphanSweepTask = periodicTask(
    t.sweepIntervalMs ?? 10 * 60_000,
    async () => {
      const r = await sweepOrphans({ pool, storage: opts.storage, graceMs: opts.orphanGraceMs });
      if (r.orphans + r.partials > 0) log.info({ ...r }, 'swept orphaned files');
    },
    warnOf('orphan sweep failed'),
  );
  const scratchSweepTask = periodicTask(
    t.scratchSweepIntervalMs ?? 60_000,
    async () => {
      const n = await sweepDeadWorkersScratch({ tmpDir, selfLockKey: lockKey, tx });
      if (n > 0) log.info({ folders: n }, 'removed scratch folders of dead workers');
    },
    warnOf('scratch sweep failed'),
  );
  const retentionTask = periodicTask(
    t.retentionIntervalMs ?? 10 * 60_000,
    async () => {
      const r = await pruneOldRows(pool, opts.retentionDays);
      if (r.events + r.webhooks > 0) log.info({ ...r }, 'pruned old rows');
    },
    warnOf('retention failed'),
  );
  const webhooks = createWebhookDispatcher({
    ...opts.webhooks, pool, baseUrl: opts.publicUrl, intervalMs: t.webhookIntervalMs, log, onOutcome: (o) => opts.observer?.webhookDelivery(o),
  });
  const tasks = [pollTask, reaperTask, orphanSweepTask, scratchSweepTask, retentionTask];

  return {
    id,
    async start() {
      // Render processes start beside the connection (under a second each: renderers load their
      // libraries on first use); the worker counts as running once one is ready.
      const warming = renderPool.warm().catch((err) => log.error({ err: String(err) }, 'render processes failed to start'));
      try {
        await connection.open();
        await warming;
      } catch (err) {
        await renderPool.close();
        await pool.end().catch(() => undefined);
        throw err;
      }
      started = true;
      heartbeatTask.start();
      for (const task of tasks) task.start();
      webhooks.start();
      void reaperTask.runNow();
      void scratchSweepTask.runNow();
      triggerClaims();
    },
    async stop(graceMs = 5000) {
      if (stopping) return;
      stopping = true;
      await Promise.all(claimLoops.map((loop) => loop.stop()));
      const deadline = Date.now() + graceMs;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const controller of active.values()) controller.abort(new JobAbort('shutdown'));
      await Promise.all(runners);
      await Promise.all([heartbeatTask.stop(), ...tasks.map((task) => task.stop()), webhooks.stop()]);
      await renderPool.close();
      await connection.close();
      await pool.end().catch(() => undefined);
    },
    // Ready to work: connected with the lock held, and at least one render process loaded.
    running: () => started && !stopping && connection.connected() && renderPool.readyCount() > 0,
    activeJobIds: () => [...active.keys()],
  };
}
