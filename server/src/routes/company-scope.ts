import type { FastifyRequest } from 'fastify';
import { assertCompanyAccess } from '../http/auth.js';
import type { AppDeps } from '../app-deps.js';

/** Resolves `:companyId` for a company-scoped route: access check first, then existence. */
export async function companyFromRequest(deps: AppDeps, request: FastifyRequest): Promise<string> {
  const { companyId } = request.params as { companyId: string };
  assertCompanyAccess(request, companyId);
  await deps.companies.require(companyId);
  return companyId;
}
