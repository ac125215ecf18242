import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { webhookDeliveryService } from '../services/webhooks/webhook-delivery-service.js';
import { companyFromRequest } from './company-scope.js';

/** The webhook delivery ledger of a job, and redelivery. */
export function webhookDeliveriesRoutes(deps: AppDeps) {
  const deliveries = webhookDeliveryService(deps.database.pool);
  return async (app: FastifyInstance) => {
    app.get('/api/companies/:companyId/content-jobs/:jobId/webhook-deliveries', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      const job = await deps.jobs.requireJob(companyId, jobId);
      return { items: await deliveries.listForJob(companyId, job.id) };
    });

    app.post('/api/companies/:companyId/webhook-deliveries/:deliveryId/redeliver', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { deliveryId } = request.params as { deliveryId: string };
      return reply.status(202).send(await deliveries.redeliver(companyId, deliveryId));
    });
  };
}
