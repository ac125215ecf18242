import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { companyStatsReader } from '../services/jobs/company-stats.js';
import { companyFromRequest } from './company-scope.js';

/** `GET /api/companies/:companyId/stats`: queue depth and throughput of the company, by kind (the dashboard's numbers). */
export function statsRoutes(deps: AppDeps) {
  const stats = companyStatsReader(deps.database.pool);
  return async (app: FastifyInstance) => {
    app.get('/api/companies/:companyId/stats', async (request) => stats.read(await companyFromRequest(deps, request)));
  };
}
