import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiKeyService, Principal } from '../services/auth/api-key-service.js';
import { KilnError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking. Set on every non-public route (a request without one never reaches it). */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Answers without an API key: health, the API's own description, the dashboard's files. */
    public?: boolean;
  }
}

/**
 * Marks every route registered in the calling plugin's scope as public. For routes declared by
 * plugins (the dashboard's static files) that take no route config of their own.
 */
export function markRoutesPublic(app: FastifyInstance) {
  app.addHook('onRoute', (route: RouteOptions) => {
    route.config = { ...(route.config as object), public: true } as RouteOptions['config'];
  });
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * Who may do what is decided per route, from the route the router matched — never by looking at
 * the URL string, which the router decodes (`/%61pi/…` is `/api/…`) and normalises differently.
 * A route is private unless it says `config: { public: true }`; a private route without a
 * principal answers 401 and its handler never runs. Unknown paths answer 404 either way.
 *
 * `local_trusted`: every request acts as the local admin, so the server binds loopback only, and
 * a request must also *address* loopback (Host) and, when a browser says where it comes from
 * (Origin), come from this server's own pages: otherwise any web page the user opens could drive
 * the API through DNS rebinding or a cross-site form.
 * `authenticated`: a Bearer API key.
 */
export function installAuth(app: FastifyInstance, deps: { mode: 'local_trusted' | 'authenticated'; keys: ApiKeyService }) {
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (request) => {
    if (deps.mode === 'local_trusted') {
      assertLocalRequest(request);
      request.principal = { kind: 'admin', keyId: null };
      return;
    }
    const isPublic = request.is404 || request.routeOptions.config?.public === true;
    const header = request.headers.authorization;
    if (header === undefined && isPublic) return;
    const m = /^Bearer\s+(\S{1,512})$/i.exec(header ?? '');
    const principal = m ? await deps.keys.authenticate(m[1]!) : null;
    if (principal) request.principal = principal;
    else if (!isPublic) throw KilnError.of('unauthorized');
  });
}

function assertLocalRequest(request: FastifyRequest) {
  const host = request.headers.host ?? '';
  if (!LOOPBACK_HOST.test(host)) {
    throw KilnError.of('forbidden', 'This server (local_trusted mode) only answers requests addressed to localhost, 127.0.0.1 or [::1].');
  }
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let sameOrigin = false;
    try {
      sameOrigin = new URL(origin).host.toLowerCase() === host.toLowerCase();
    } catch {
      sameOrigin = false;
    }
    if (!sameOrigin) throw KilnError.of('forbidden', `Requests from other origins (${String(origin).slice(0, 100)}) are refused in local_trusted mode.`);
  }
}

/** A company key sees its own company only; anything else answers 404, as if it did not exist. */
export function assertCompanyAccess(request: FastifyRequest, companyId: string) {
  const p = request.principal;
  if (!p) throw KilnError.of('unauthorized');
  if (p.kind === 'company' && p.companyId !== companyId) throw KilnError.of('company_not_found');
}

export function assertAdmin(request: FastifyRequest) {
  if (request.principal?.kind !== 'admin') throw KilnError.of('forbidden', 'This needs an admin key.');
}
