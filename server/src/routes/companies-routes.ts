import type { FastifyInstance } from 'fastify';
import { createCompanyBodySchema, updateCompanyBodySchema } from '@kiln/shared';
import { assertAdmin, assertCompanyAccess } from '../http/auth.js';
import { issuesToDetails, validationFailed } from '../errors.js';
import type { AppDeps } from '../app-deps.js';

export function companiesRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.get('/api/companies', async (request) => {
      const all = await deps.companies.list();
      const p = request.principal;
      return { items: p.kind === 'company' ? all.filter((c) => c.id === p.companyId) : all };
    });

    app.post('/api/companies', async (request, reply) => {
      assertAdmin(request);
      const parsed = createCompanyBodySchema.safeParse(request.body);
      if (!parsed.success) throw validationFailed(issuesToDetails(parsed.error.issues, [], request.body));
      const company = await deps.companies.create(parsed.data);
      return reply.status(201).header('location', `/api/companies/${company.id}`).send(company);
    });

    app.get('/api/companies/:companyId', async (request) => {
      const { companyId } = request.params as { companyId: string };
      assertCompanyAccess(request, companyId);
      return deps.companies.require(companyId);
    });

    app.patch('/api/companies/:companyId', async (request) => {
      const { companyId } = request.params as { companyId: string };
      assertCompanyAccess(request, companyId);
      assertAdmin(request);
      const parsed = updateCompanyBodySchema.safeParse(request.body);
      if (!parsed.success) throw validationFailed(issuesToDetails(parsed.error.issues, [], request.body));
      return deps.companies.update(companyId, parsed.data);
    });

    // Admin, or the company's own key; another company's key gets 404 like every company route.
    app.post('/api/companies/:companyId/webhook-secret/rotate', async (request) => {
      const { companyId } = request.params as { companyId: string };
      assertCompanyAccess(request, companyId);
      return deps.companies.rotateWebhookSecret(companyId);
    });
  };
}
