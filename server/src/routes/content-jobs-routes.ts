import type { FastifyInstance } from 'fastify';
import { listJobsQuerySchema } from '@kiln/shared';
import { KilnError, issuesToDetails, validationFailed } from '../errors.js';
import { assertCompanyAccess } from '../http/auth.js';
import { isUuid } from '../services/companies/company-service.js';
import type { AppDeps } from '../app-deps.js';
import { companyFromRequest } from './company-scope.js';

/** What an Idempotency-Key may be (the OpenAPI document publishes the same pattern). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function contentJobsRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.post('/api/companies/:companyId/content-jobs', async (request, reply) => {
      // The hot path: no separate company lookup. The insert's foreign key answers "no such
      // company" (jobService maps it to 404), which saves a round trip on every accepted job.
      const { companyId } = request.params as { companyId: string };
      assertCompanyAccess(request, companyId);
      if (!isUuid(companyId)) throw KilnError.of('company_not_found');
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
        throw validationFailed([{ path: ['Idempotency-Key'], message: 'Use 1–200 visible ASCII characters.' }]);
      }
      const { response, created } = await deps.jobs.create(companyId, request.body, {
        idempotencyKey: key as string | undefined,
        requestedBy: request.principal.keyId ?? 'local',
      });
      return reply
        .status(202)
        .header('location', `/api/companies/${companyId}/content-jobs/${response.jobId}`)
        .header('idempotent-replayed', created ? 'false' : 'true')
        .send(response);
    });

    app.get('/api/companies/:companyId/content-jobs', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const query = listJobsQuerySchema.safeParse(request.query);
      if (!query.success) throw validationFailed(issuesToDetails(query.error.issues));
      return deps.jobs.list(companyId, query.data);
    });

    app.get('/api/companies/:companyId/content-jobs/:jobId', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      return deps.jobs.get(companyId, jobId);
    });

    app.post('/api/companies/:companyId/content-jobs/:jobId/cancel', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      const job = await deps.jobs.cancel(companyId, jobId);
      return reply.status(job.status === 'canceled' ? 200 : 202).send(job);
    });
  };
}
