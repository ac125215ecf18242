import type { FastifyInstance } from 'fastify';
import { assertAdmin } from '../http/auth.js';
import type { KilnMetrics } from '../services/metrics/kiln-metrics.js';

/**
 * `GET /metrics`: Prometheus text. In `authenticated` mode it needs an admin key (the queue
 * depth is every company's) unless `KILN_METRICS_PUBLIC=true` makes it keyless for a scraper on
 * a private network; in `local_trusted` it is open like everything else. Also served alone by a
 * worker-only process (metrics-server.ts).
 */
export function metricsRoutes(deps: { metrics: KilnMetrics; config: { metricsPublic: boolean } }) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { config: { public: deps.config.metricsPublic } }, async (request, reply) => {
      if (!deps.config.metricsPublic) assertAdmin(request);
      const text = await deps.metrics.render();
      return reply.type(deps.metrics.contentType).header('cache-control', 'no-store').send(text);
    });
  };
}
