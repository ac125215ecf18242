import type { FastifyInstance } from 'fastify';
import { migrationsApplied } from '@kiln/db';
import type { AppDeps } from '../app-deps.js';

export function healthRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.get('/api/health', { config: { public: true } }, async () => ({ status: 'ok' }));

    app.get('/api/ready', { config: { public: true } }, async (_request, reply) => {
      const checks: Record<string, boolean> = {};
      if (deps.draining()) {
        return reply.status(503).header('retry-after', '5').send({ status: 'not_ready', checks: { draining: false } });
      }
      try {
        checks.database = (await deps.database.pool.query('SELECT 1')).rowCount === 1;
        checks.migrations = await migrationsApplied(deps.database.pool);
      } catch {
        checks.database ??= false;
        checks.migrations = false;
      }
      if (deps.workerRunning) checks.worker = deps.workerRunning();
      checks.inputCheckers = deps.checkersReady();
      const ready = Object.values(checks).every(Boolean);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    });
  };
}
