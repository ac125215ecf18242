import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyService, Principal } from '../services/auth/api-key-service.js';
import { KilnError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * `local_trusted`: every request acts as the local admin (the server only binds loopback).
 * `authenticated`: a Bearer API key is required on /api routes except health, readiness and the
 * API description (/api/openapi.json, /api/docs).
 */
export function installAuth(app: FastifyInstance, deps: { mode: 'local_trusted' | 'authenticated'; keys: ApiKeyService }) {
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (request) => {
    if (deps.mode === 'local_trusted') {
      request.principal = { kind: 'admin', keyId: null };
      return;
    }
    const path = request.url.split('?')[0]!;
    // The API description stays public: it describes the API and holds no company's data.
    if (!path.startsWith('/api/') || path === '/api/health' || path === '/api/ready' || path === '/api/openapi.json' || path === '/api/docs') return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = m ? await deps.keys.authenticate(m[1]!) : null;
    if (!principal) throw KilnError.of('unauthorized');
    request.principal = principal;
  });
}

/** A company key sees its own company only; anything else answers 404, as if it did not exist. */
export function assertCompanyAccess(request: FastifyRequest, companyId: string) {
  const p = request.principal;
  if (p?.kind === 'company' && p.companyId !== companyId) throw KilnError.of('company_not_found');
}

export function assertAdmin(request: FastifyRequest) {
  if (request.principal?.kind !== 'admin') throw KilnError.of('forbidden', 'This needs an admin key.');
}
