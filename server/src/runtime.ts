import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createDatabase, ensureDatabase, migrate, startEmbeddedPostgres, type Database, type EmbeddedPostgresHandle } from '@kiln/db';
import { builtInRenderers, createRendererRegistry, type Renderer, type RendererRegistry } from '@kiln/renderers';
import type { Config } from './config.js';
import { createApp } from './app.js';
import { createEventHub, type EventHub } from './services/events/event-hub.js';
import { createLocalDiskProvider } from './services/storage/local-disk-provider.js';
import { createStorageService, type StorageService } from './services/storage/storage-service.js';
import { jobService } from './services/jobs/job-service.js';
import { companyService } from './services/companies/company-service.js';
import { apiKeyService } from './services/auth/api-key-service.js';
import { createWorker, type Worker } from './worker/worker.js';
import { webhookSubmitGuard } from './services/webhooks/outbound-guard.js';
import type { WebhookDispatchSettings } from './services/webhooks/webhook-dispatcher.js';

export interface KilnRuntime {
  config: Config;
  database: Database;
  storage: StorageService;
  renderers: RendererRegistry;
  app: FastifyInstance | null;
  worker: Worker | null;
  /** `http://host:port` once listening. */
  url: string | null;
  defaultCompanyId: string | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  api?: boolean;
  worker?: boolean;
  /** Worker timing overrides for tests. */
  workerTiming?: { pollIntervalMs?: number; heartbeatIntervalMs?: number; reapIntervalMs?: number; sweepIntervalMs?: number; webhookIntervalMs?: number };
  /**
   * Modules exporting `renderers: Renderer[]`, added to the built-in kinds in the API and in every
   * render thread (file URLs or absolute paths). The integration tests use it for slow and
   * failing kinds.
   */
  rendererModules?: string[];
  /** Webhook overrides for tests: a fake resolver, pool sizes, timeouts, the rotation overlap. */
  webhooks?: Omit<WebhookDispatchSettings, 'allowPrivate'>;
}

/** Connects to PostgreSQL: DATABASE_URL when set, else the embedded server under the data dir. */
export async function openDatabase(config: Config, log: pino.Logger): Promise<{ database: Database; embedded: EmbeddedPostgresHandle | null }> {
  let url = config.databaseUrl;
  let embedded: EmbeddedPostgresHandle | null = null;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, {
      log: (line) => log.debug({ postgres: line }),
      notice: (message) => log.warn(message),
    });
    url = await ensureDatabase(embedded.url, 'kiln');
    log.info({ owned: embedded.owned }, 'embedded PostgreSQL ready');
  }
  const database = createDatabase(url, { maxConnections: 20 });
  await migrate(database.pool);
  return { database, embedded };
}

/**
 * Starts what this process should run — the API, the worker, or both — over one database and
 * storage. The CLI and the integration tests both start Kiln through here.
 */
export async function startKiln(config: Config, options: StartOptions = {}): Promise<KilnRuntime> {
  const runApi = options.api ?? true;
  const runWorker = options.worker ?? true;
  const log = pino({ level: config.logLevel });
  const { database, embedded } = await openDatabase(config, log);
  const storage = createStorageService(createLocalDiskProvider(config.storageDir));
  const rendererModules = [...config.rendererModules, ...(options.rendererModules ?? [])];
  const extra: Renderer[] = [];
  for (const m of rendererModules) extra.push(...((await import(m)) as { renderers: Renderer[] }).renderers);
  const renderers = createRendererRegistry([...builtInRenderers(), ...extra]);
  const companies = companyService(database.pool);
  const keys = apiKeyService(database.pool);

  let defaultCompanyId: string | null = null;
  if (config.deploymentMode === 'local_trusted') {
    const { company, created } = await companies.ensureDefault();
    defaultCompanyId = company.id;
    if (created && runApi) log.info({ companyId: company.id }, 'created the default company');
  }

  let worker: Worker | null = null;
  if (runWorker) {
    worker = createWorker({
      database,
      storage,
      concurrency: config.workerConcurrency,
      maxAssetBytes: config.maxGeneratedAssetBytes,
      dataDir: config.dataDir,
      orphanGraceMs: config.orphanGraceMs,
      rendererModules,
      publicUrl: config.publicUrl,
      webhooks: { ...options.webhooks, allowPrivate: config.webhookAllowPrivate },
      log,
      ...options.workerTiming,
    });
    await worker.start();
  }

  let app: FastifyInstance | null = null;
  let hub: EventHub | null = null;
  let url: string | null = null;
  if (runApi) {
    hub = createEventHub({ database, onError: (err) => log.warn({ err: String(err) }, 'event hub error') });
    await hub.start();
    const w = worker;
    app = await createApp({
      config,
      database,
      storage,
      renderers,
      hub,
      jobs: jobService({ pool: database.pool, renderers, companies, baseUrl: config.publicUrl, webhookGuard: webhookSubmitGuard(config, options.webhooks) }),
      companies,
      keys,
      workerRunning: w ? () => w.running() : null,
    });
    await app.listen({ host: config.host, port: config.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  }

  let stopped = false;
  return {
    config,
    database,
    storage,
    renderers,
    app,
    worker,
    url,
    defaultCompanyId,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking requests first; SSE connections are ended by closing the server.
      if (app) {
        app.server.closeAllConnections?.();
        await app.close();
      }
      await worker?.stop();
      await hub?.stop();
      await database.close();
      if (embedded?.owned) await embedded.stop();
    },
  };
}
