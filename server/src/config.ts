import { z } from 'zod';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_MAX_GENERATED_ASSET_BYTES, DEFAULT_MAX_UPLOAD_BYTES } from '@kiln/shared';
import { resolveS3Config, s3EnvProblem, s3EnvShape, type S3Config } from './config-s3.js';
import { parseProvidersSetting, ProviderConfigError, type ProviderConfig } from './providers/provider-config.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

const envSchema = z
  .object({
    KILN_HOST: z.string().min(1).default('127.0.0.1'),
    KILN_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
    KILN_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z.string().url().optional(),
    KILN_STORAGE_PROVIDER: z.enum(['local', 's3']).default('local'),
    ...s3EnvShape,
    MAX_GENERATED_ASSET_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_GENERATED_ASSET_BYTES),
    KILN_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    KILN_DEPLOYMENT_MODE: z.enum(['local_trusted', 'authenticated']).default('local_trusted'),
    KILN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Seconds between SSE keep-alive comments. */
    KILN_SSE_KEEPALIVE_SECONDS: z.coerce.number().positive().default(15),
    /** How long a file may exist without an asset row before the sweeper deletes it. */
    KILN_ORPHAN_GRACE_SECONDS: z.coerce.number().int().min(1).default(3600),
    /** Extra renderer modules (comma-separated paths or file URLs), each exporting `renderers`. */
    KILN_RENDERER_MODULES: z.string().optional(),
    /** Public base URL used in asset links; defaults to relative paths. */
    KILN_PUBLIC_URL: z.string().url().optional(),
    /** Largest file one upload may be. */
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_UPLOAD_BYTES),
    /** Resident memory ceiling of each render process, in MiB. */
    KILN_RENDER_MEMORY_MB: z.coerce.number().int().min(256).max(65536).default(2048),
    /** Render processes the API keeps for checking inputs that must be parsed (SVG, Markdown, Vega). */
    KILN_VALIDATION_PROCESSES: z.coerce.number().int().min(1).max(16).default(2),
    /** How long checking one input may take before it is refused as too complex. */
    KILN_VALIDATION_BUDGET_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
    /** Connections of the API's pool, and how long a request waits for one before a 503. */
    KILN_DB_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(20),
    KILN_DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    /** Event rows of jobs finished longer ago than this are pruned (jobs and assets stay). */
    KILN_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Requests per second per API key (or client address without one) in authenticated mode; 0: no limit. */
    KILN_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(200),
    /** On SIGTERM, how long running jobs may finish before they are handed back to the queue. */
    KILN_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
    /** Deliver webhooks to loopback/private/link-local/CGNAT addresses (default: only in local_trusted). */
    KILN_WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).optional(),
    /** `GET /metrics` without an API key in authenticated mode (it is always keyless in local_trusted). */
    KILN_METRICS_PUBLIC: z.enum(['true', 'false']).default('false'),
    /** A worker-only process (`kiln worker`) serves its own `GET /metrics` on this port (KILN_HOST); unset: none. */
    KILN_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    /** Model providers for the AI kinds: inline JSON or the path of a JSON file (see providers/provider-config.ts). */
    KILN_PROVIDERS: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    const s3Problem = s3EnvProblem(env);
    if (s3Problem) ctx.addIssue({ code: 'custom', path: [s3Problem.path], message: s3Problem.message });
    if (env.KILN_DEPLOYMENT_MODE === 'local_trusted' && !LOOPBACK_HOSTS.has(env.KILN_HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['KILN_HOST'],
        message: `local_trusted mode serves every request as admin, so it only binds loopback; got ${env.KILN_HOST}. Set KILN_DEPLOYMENT_MODE=authenticated to listen on other interfaces.`,
      });
    }
  });

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  storageProvider: 'local' | 's3';
  /** S3 settings, set when `storageProvider` is `s3`. */
  s3: S3Config | null;
  storageDir: string;
  maxGeneratedAssetBytes: number;
  workerConcurrency: number;
  deploymentMode: 'local_trusted' | 'authenticated';
  logLevel: string;
  sseKeepAliveMs: number;
  orphanGraceMs: number;
  publicUrl: string | undefined;
  rendererModules: string[];
  renderMemoryMb: number;
  maxUploadBytes: number;
  validationProcesses: number;
  validationBudgetMs: number;
  dbPoolSize: number;
  dbAcquireTimeoutMs: number;
  eventRetentionDays: number;
  shutdownGraceMs: number;
  /** 0: off. Always off in local_trusted mode. */
  rateLimitPerSecond: number;
  webhookAllowPrivate: boolean;
  /** `/metrics` needs no key in authenticated mode. */
  metricsPublic: boolean;
  /** Port of a worker-only process's `/metrics` listener; null: none. */
  metricsPort: number | null;
  /** Model providers (KILN_PROVIDERS) with their API keys; empty: no AI kinds. */
  providers: ProviderConfig[];
}

export class ConfigError extends Error {}

/** Reads and validates every setting once; nothing else in Kiln reads `process.env`. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid Kiln configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let providers: ProviderConfig[];
  try {
    providers = parseProvidersSetting(e.KILN_PROVIDERS, env);
  } catch (err) {
    if (err instanceof ProviderConfigError) throw new ConfigError(`Invalid Kiln configuration:\n  ${err.message}`);
    throw err;
  }
  const dataDir = path.resolve(e.KILN_DATA_DIR);
  return {
    host: e.KILN_HOST,
    port: e.KILN_PORT,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    storageProvider: e.KILN_STORAGE_PROVIDER,
    s3: resolveS3Config(e),
    storageDir: path.join(dataDir, 'storage'),
    maxGeneratedAssetBytes: e.MAX_GENERATED_ASSET_BYTES,
    workerConcurrency: e.KILN_WORKER_CONCURRENCY,
    deploymentMode: e.KILN_DEPLOYMENT_MODE,
    logLevel: e.KILN_LOG_LEVEL,
    sseKeepAliveMs: e.KILN_SSE_KEEPALIVE_SECONDS * 1000,
    orphanGraceMs: e.KILN_ORPHAN_GRACE_SECONDS * 1000,
    publicUrl: e.KILN_PUBLIC_URL,
    rendererModules: (e.KILN_RENDERER_MODULES ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => (m.startsWith('file:') ? m : pathToFileURL(path.resolve(m)).href)),
    renderMemoryMb: e.KILN_RENDER_MEMORY_MB,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    validationProcesses: e.KILN_VALIDATION_PROCESSES,
    validationBudgetMs: e.KILN_VALIDATION_BUDGET_MS,
    dbPoolSize: e.KILN_DB_POOL_SIZE,
    dbAcquireTimeoutMs: e.KILN_DB_ACQUIRE_TIMEOUT_MS,
    eventRetentionDays: e.KILN_EVENT_RETENTION_DAYS,
    shutdownGraceMs: e.KILN_SHUTDOWN_GRACE_MS,
    rateLimitPerSecond: e.KILN_DEPLOYMENT_MODE === 'authenticated' ? e.KILN_RATE_LIMIT_PER_SECOND : 0,
    webhookAllowPrivate: e.KILN_WEBHOOK_ALLOW_PRIVATE ? e.KILN_WEBHOOK_ALLOW_PRIVATE === 'true' : e.KILN_DEPLOYMENT_MODE === 'local_trusted',
    metricsPublic: e.KILN_METRICS_PUBLIC === 'true',
    metricsPort: e.KILN_METRICS_PORT ?? null,
    providers,
  };
}
