import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { ApiKeyService } from '../services/auth/api-key-service.js';
import type { KilnMetrics } from '../services/metrics/kiln-metrics.js';
import { metricsRoutes } from '../routes/metrics-routes.js';
import { installAuth } from './auth.js';
import { installErrorHandler } from './error-handler.js';

/**
 * A worker-only process (`kiln worker`) has no API, yet its counters — the jobs it claimed and
 * ended, the webhooks it sent — exist only in it. With `KILN_METRICS_PORT` it serves them on a
 * listener of its own: `GET /metrics` alone, with the same auth rules as the API's.
 */
export async function startMetricsServer(o: {
  config: Config;
  port: number;
  keys: ApiKeyService;
  metrics: KilnMetrics;
  log: FastifyBaseLogger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ loggerInstance: o.log, logController: new LogController({ disableRequestLogging: true }) });
  installErrorHandler(app);
  installAuth(app, { mode: o.config.deploymentMode, keys: o.keys });
  await app.register(metricsRoutes({ metrics: o.metrics, config: o.config }));
  await app.listen({ host: o.config.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    url: `http://${o.config.host.includes(':') ? `[${o.config.host}]` : o.config.host}:${port}`,
    close: () => app.close(),
  };
}
