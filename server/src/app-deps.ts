import type { Database } from '@kiln/db';
import type { RendererRegistry } from '@kiln/renderers';
import type { Config } from './config.js';
import type { EventHub } from './services/events/event-hub.js';
import type { StorageService } from './services/storage/storage-service.js';
import type { JobService } from './services/jobs/job-service.js';
import type { CompanyService } from './services/companies/company-service.js';
import type { ApiKeyService } from './services/auth/api-key-service.js';
import type { UploadService } from './services/assets/upload-service.js';
import type { KilnMetrics } from './services/metrics/kiln-metrics.js';

/** Everything the HTTP layer needs, passed in explicitly (tests build the same thing). */
export interface AppDeps {
  config: Config;
  database: Database;
  storage: StorageService;
  renderers: RendererRegistry;
  hub: EventHub;
  jobs: JobService;
  companies: CompanyService;
  keys: ApiKeyService;
  uploads: UploadService;
  /** This process's Prometheus metrics (`GET /metrics`). */
  metrics: KilnMetrics;
  /** Whether this process's worker is running (null when started with --no-worker). */
  workerRunning: (() => boolean) | null;
  /** The company `default` stands for in local_trusted mode (null in authenticated mode). */
  defaultCompanyId: string | null;
  /** True once at least one validation process has loaded (inputs can be checked). */
  checkersReady: () => boolean;
  /** True once the process has begun to stop: /api/ready answers 503 while it drains. */
  draining: () => boolean;
}
