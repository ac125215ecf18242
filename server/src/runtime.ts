import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { createDatabase, ensureDatabase, migrate, startEmbeddedPostgres, type Database, type EmbeddedPostgresHandle } from '@kiln/db';
import { builtInRenderers, createRendererRegistry, type Renderer, type RendererRegistry } from '@kiln/renderers';
import type { Config } from './config.js';
import { createApp } from './app.js';
import { createEventHub, type EventHub } from './services/events/event-hub.js';
import { createStorageProvider } from './services/storage/create-storage-provider.js';
import { createStorageService, type StorageService } from './services/storage/storage-service.js';
import { jobService } from './services/jobs/job-service.js';
import { companyService } from './services/companies/company-service.js';
import { apiKeyService } from './services/auth/api-key-service.js';
import { createValidationPool, type ValidationPool } from './render-processes/validation-pool.js';
import { uploadService } from './services/assets/upload-service.js';
import { createWorker, type Worker, type WorkerTiming } from './worker/worker.js';
import { webhookSubmitGuard } from './services/webhooks/outbound-guard.js';
import type { WebhookDispatchSettings } from './services/webhooks/webhook-dispatcher.js';
import { createKilnMetrics, type KilnMetrics } from './services/metrics/kiln-metrics.js';
import { startMetricsServer } from './http/metrics-server.js';
import { createQueueCapCheck } from './services/jobs/queue-cap-check.js';
import { providerRenderers, type ProviderKindsOptions } from './providers/provider-kinds.js';

export interface KilnRuntime {
  config: Config;
  database: Database;
  storage: StorageService;
  renderers: RendererRegistry;
  app: FastifyInstance | null;
  worker: Worker | null;
  /** `http://host:port` once listening. */
  url: string | null;
  /** This process's metrics (served at `url` + `/metrics`, or at `metricsUrl`). */
  metrics: KilnMetrics;
  /** A worker-only process's own `/metrics` listener (`KILN_METRICS_PORT`), else null. */
  metricsUrl: string | null;
  defaultCompanyId: string | null;
  /** Stops everything this process started, in order; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  api?: boolean;
  worker?: boolean;
  /** Worker timing overrides for tests. */
  workerTiming?: WorkerTiming;
  /** How long running jobs may finish on stop before they go back to the queue (default: config). */
  shutdownGraceMs?: number;
  /**
   * Modules exporting `renderers: Renderer[]`, added to the built-in kinds in the API and in every
   * render process (file URLs or absolute paths). The integration tests use it for slow and
   * failing kinds.
   */
  rendererModules?: string[];
  /** Webhook overrides for tests: a fake resolver, pool sizes, timeouts, the rotation overlap. */
  webhooks?: Omit<WebhookDispatchSettings, 'allowPrivate'>;
  /** Provider overrides for tests: the resolver and address classifier behind URLs a provider answers with. */
  providers?: ProviderKindsOptions;
}

/**
 * The process's logger, shared by Kiln and Fastify. JSON lines for log collectors; on a terminal,
 * pino-pretty's readable lines instead, written synchronously so none are lost when the process
 * exits (a person at a terminal logs far less than a server under load).
 */
export function createLogger(level: string, stdout: { isTTY?: boolean } = process.stdout): pino.Logger {
  if (!stdout.isTTY || level === 'silent') return pino({ level });
  return pino({ level }, pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/** Connects to PostgreSQL: DATABASE_URL when set, else the embedded server under the data dir. */
export async function openDatabase(
  config: Config,
  log: pino.Logger,
  onEmbeddedStarted: (handle: EmbeddedPostgresHandle) => void = () => undefined,
): Promise<{ database: Database; embedded: EmbeddedPostgresHandle | null }> {
  let url = config.databaseUrl;
  let embedded: EmbeddedPostgresHandle | null = null;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, {
      log: (line) => log.debug({ postgres: line }),
      notice: (message) => log.warn(message),
    });
    onEmbeddedStarted(embedded);
    url = await ensureDatabase(embedded.url, 'kiln');
    log.info({ owned: embedded.owned }, 'embedded PostgreSQL ready');
  }
  const database = createDatabase(url, { maxConnections: config.dbPoolSize, acquireTimeoutMs: config.dbAcquireTimeoutMs });
  try {
    await migrate(database.pool);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { database, embedded };
}

/** Fails fast, before anything is started, when the port is taken (port 0 always works). */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `${host}:${port} is already in use (set KILN_PORT to another port)` : `cannot listen on ${host}:${port}: ${err.message}`)),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Starts what this process should run — the API, the worker, or both — over one database and
 * storage. The CLI and the integration tests both start Kiln through here. Everything started is
 * recorded as it starts; if a later step fails, what was started is stopped again (embedded
 * PostgreSQL included) before the error is thrown.
 */
export async function startKiln(config: Config, options: StartOptions = {}): Promise<KilnRuntime> {
  const runApi = options.api ?? true;
  const runWorker = options.worker ?? true;
  const log = createLogger(config.logLevel);
  const stops: (() => Promise<void>)[] = [];
  let draining = false;
  let stopWorker: (() => Promise<void>) | null = null;
  // Draining first: /api/ready answers 503 while the worker hands its jobs back; then the API
  // closes, then everything else in the reverse order it started.
  const stopAll = async () => {
    draining = true;
    const ignore = (err: unknown) => log.warn({ err: String(err) }, 'error while stopping');
    if (stopWorker) await stopWorker().catch(ignore);
    for (const stop of stops.splice(0).reverse()) await stop().catch(ignore);
  };

  try {
    if (runApi) await assertPortFree(config.host, config.port);
    const { database } = await openDatabase(config, log, (embedded) => {
      if (embedded.owned) stops.push(() => embedded.stop());
    });
    stops.push(() => database.close());
    const storage = createStorageService(createStorageProvider(config));
    const rendererModules = [...config.rendererModules, ...(options.rendererModules ?? [])];
    const extra: Renderer[] = [];
    for (const m of rendererModules) extra.push(...((await import(m)) as { renderers: Renderer[] }).renderers);
    // The AI kinds exist only when a provider serves them (KILN_PROVIDERS).
    const renderers = createRendererRegistry([...builtInRenderers(), ...extra, ...providerRenderers(config.providers, options.providers)]);
    // One view of each company's queue length per process, shared by the job service (which
    // consults it before counting) and the company service (a changed cap is forgotten at once).
    const queueCap = createQueueCapCheck({ pool: database.pool });
    const companies = companyService(database.pool, { onChanged: (id) => queueCap.forget(id) });
    const keys = apiKeyService(database.pool);
    const metrics = createKilnMetrics({ pool: database.pool, kinds: [...renderers.keys()] });

    let defaultCompanyId: string | null = null;
    if (config.deploymentMode === 'local_trusted') {
      const { company, created } = await companies.ensureDefault();
      defaultCompanyId = company.id;
      if (created && runApi) log.info({ companyId: company.id }, 'created the default company');
    }

    let worker: Worker | null = null;
    if (runWorker) {
      const w = createWorker({
        database,
        storage,
        renderers,
        concurrency: config.workerConcurrency,
        maxAssetBytes: config.maxGeneratedAssetBytes,
        dataDir: config.dataDir,
        orphanGraceMs: config.orphanGraceMs,
        retentionDays: config.eventRetentionDays,
        renderMemoryMb: config.renderMemoryMb,
        rendererModules,
        publicUrl: config.publicUrl,
        webhooks: { ...options.webhooks, allowPrivate: config.webhookAllowPrivate },
        log,
        timing: options.workerTiming,
        observer: metrics,
      });
      await w.start();
      worker = w;
      stopWorker = () => w.stop(options.shutdownGraceMs ?? config.shutdownGraceMs);
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (runApi) {
      const validation: ValidationPool = createValidationPool({
        size: config.validationProcesses,
        rendererModules,
        memoryLimitMb: config.renderMemoryMb,
        timeBudgetMs: config.validationBudgetMs,
        queueTimeoutMs: 30_000,
      });
      stops.push(() => validation.close());
      // Ready means inputs can be checked: wait for the checkers (well under a second each; the
      // renderers' libraries load on first use). If they cannot start, /api/ready says so.
      const warming = validation.warm().catch((err) => log.error({ err: String(err) }, 'validation processes failed to start'));
      const hub: EventHub = createEventHub({ database, onError: (err) => log.warn({ err: String(err) }, 'event hub error') });
      await hub.start();
      stops.push(() => hub.stop());
      metrics.countSseClients(() => hub.subscriberCount());
      const w = worker;
      const a = await createApp({
        config,
        database,
        storage,
        renderers,
        hub,
        jobs: jobService({
          pool: database.pool,
          renderers,
          companies,
          validation,
          baseUrl: config.publicUrl,
          webhookGuard: webhookSubmitGuard(config, options.webhooks),
          counters: metrics,
          queueCap,
        }),
        companies,
        keys,
        uploads: uploadService({ pool: database.pool, storage, validation, maxUploadBytes: config.maxUploadBytes, baseUrl: config.publicUrl }),
        workerRunning: w ? () => w.running() : null,
        draining: () => draining,
        checkersReady: () => validation.ready(),
        defaultCompanyId,
        metrics,
      }, log);
      stops.push(async () => {
        // Open SSE streams end when their connections are closed.
        a.server.closeAllConnections?.();
        await a.close();
      });
      await warming;
      await a.listen({ host: config.host, port: config.port });
      app = a;
      const addr = a.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    }
    let metricsUrl: string | null = null;
    if (!runApi && config.metricsPort !== null) {
      const server = await startMetricsServer({ config, port: config.metricsPort, keys, metrics, log });
      stops.push(() => server.close());
      metricsUrl = server.url;
    }

    let stopped: Promise<void> | null = null;
    return {
      config,
      database,
      storage,
      renderers,
      app,
      worker,
      url,
      metrics,
      metricsUrl,
      defaultCompanyId,
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
