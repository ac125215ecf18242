import type { FastifyInstance } from 'fastify';
import { getJobQuerySchema, isTerminalStatus, listJobsQuerySchema } from '@kiln/shared';
import type { FastifyReply } from 'fastify';
import { preferredWaitSeconds, waitForJobEnd } from '../services/jobs/job-waiter.js';
import { KilnError, issuesToDetails, validationFailed } from '../errors.js';
import { assertCompanyAccess } from '../http/auth.js';
import { isUuid } from '../services/companies/company-service.js';
import type { AppDeps } from '../app-deps.js';
import { companyFromRequest } from './company-scope.js';

/** What an Idempotency-Key may be (the OpenAPI document publishes the same pattern). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Fires when the client goes away, so a waiting request stops waiting for nobody. (The response's
 * 'close', not the request's: a request 'closes' as soon as its body has been read.)
 */
function closedSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => controller.abort());
  return controller.signal;
}

export function contentJobsRoutes(deps: AppDeps) {
  const waitDeps = { hub: deps.hub, getJob: deps.jobs.get, statusOf: deps.jobs.requireJob };
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
      const location = `/api/companies/${companyId}/content-jobs/${response.jobId}`;
      const wait = preferredWaitSeconds(request.headers.prefer);
      if (wait !== null) {
        // Prefer: wait=N — answer with the finished job if it ends in time (RFC 7240, as Replicate does).
        reply.header('preference-applied', `wait=${wait}`);
        const job = await waitForJobEnd(waitDeps, companyId, response.jobId, wait, closedSignal(reply));
        if (isTerminalStatus(job.status)) {
          return reply.status(200).header('location', location).header('idempotent-replayed', created ? 'false' : 'true').send({ ...job, jobId: job.id });
        }
      }
      return reply
        .status(202)
        .header('location', location)
        .header('idempotent-replayed', created ? 'false' : 'true')
        .send(response);
    });

    app.get('/api/companies/:companyId/content-jobs', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const query = listJobsQuerySchema.safeParse(request.query);
      if (!query.success) throw validationFailed(issuesToDetails(query.error.issues, [], request.query));
      return deps.jobs.list(companyId, query.data);
    });

    app.get('/api/companies/:companyId/content-jobs/:jobId', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      const query = getJobQuerySchema.safeParse(request.query);
      if (!query.success) throw validationFailed(issuesToDetails(query.error.issues, [], request.query));
      if (!query.data.wait) return deps.jobs.get(companyId, jobId);
      return waitForJobEnd(waitDeps, companyId, jobId, query.data.wait, closedSignal(reply));
    });

    app.post('/api/companies/:companyId/content-jobs/:jobId/cancel', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      const job = await deps.jobs.cancel(companyId, jobId);
      return reply.status(job.status === 'canceled' ? 200 : 202).send(job);
    });
  };
}
