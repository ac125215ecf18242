import Fastify, { type FastifyInstance } from 'fastify';
import { MAX_REQUEST_BODY_BYTES } from '@kiln/shared';
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './app-deps.js';
import rateLimit from '@fastify/rate-limit';
import { retryLater, validationFailed } from './errors.js';
import { findUnacceptableJson, parseJsonBody } from './http/json-body.js';
import { answerFrameworkError, installErrorHandler } from './http/error-handler.js';
import { installAuth } from './http/auth.js';
import { healthRoutes } from './routes/health-routes.js';
import { discoveryRoutes } from './routes/discovery-routes.js';
import { assetUploadRoutes } from './routes/asset-upload-routes.js';
import { companiesRoutes } from './routes/companies-routes.js';
import { contentJobsRoutes } from './routes/content-jobs-routes.js';
import { eventsRoutes } from './routes/events-routes.js';
import { assetsRoutes } from './routes/assets-routes.js';
import { renderersRoutes } from './routes/renderers-routes.js';
import { webhookDeliveriesRoutes } from './routes/webhook-deliveries-routes.js';
import { mcpRoutes } from './routes/mcp-routes.js';
import { staticUiRoutes } from './http/static-ui.js';
import { openapiRoutes } from './http/openapi/openapi-routes.js';

/** The HTTP app. Everything it uses comes in through `deps`; it starts no background work itself. */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.config.logLevel === 'silent' ? false : { level: deps.config.logLevel },
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    genReqId: () => randomUUID(),
    frameworkErrors: answerFrameworkError,
  });
  // JSON only. An empty body is "no body" (the cancel route takes none), not a parse error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  installErrorHandler(app);
  // Query strings and path parameters reach SQL too: the same refusal of NUL and lone surrogates.
  app.addHook('preValidation', async (request) => {
    const params = request.params as { companyId?: string } | undefined;
    // local_trusted: `default` stands for the default company wherever a company id goes.
    if (params?.companyId === 'default' && deps.defaultCompanyId && deps.config.deploymentMode === 'local_trusted') {
      params.companyId = deps.defaultCompanyId;
    }
    for (const [where, values] of [['query', request.query], ['params', request.params]] as const) {
      const problem = findUnacceptableJson(values, 4);
      if (problem) throw validationFailed([{ path: [where, ...problem.path], message: problem.message }]);
    }
  });
  installAuth(app, { mode: deps.config.deploymentMode, keys: deps.keys });
  // After auth (hooks run in order), so the limit is per API key: one tenant's burst spends its
  // own budget, not its neighbours'. Requests without a key count by address.
  if (deps.config.rateLimitPerSecond > 0) {
    await app.register(rateLimit, {
      max: deps.config.rateLimitPerSecond,
      timeWindow: 1000,
      hook: 'onRequest',
      keyGenerator: (request) => (request.principal?.keyId ? `key:${request.principal.keyId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        retryLater('rate_limited', context.ttl / 1000, `More than ${context.max} requests per second; retry after ${Math.ceil(context.ttl / 1000)} s.`),
    });
  }
  await app.register(healthRoutes(deps));
  await app.register(discoveryRoutes(deps));
  await app.register(companiesRoutes(deps));
  await app.register(contentJobsRoutes(deps));
  await app.register(eventsRoutes(deps));
  await app.register(assetsRoutes(deps));
  await app.register(assetUploadRoutes(deps));
  await app.register(renderersRoutes(deps));
  await app.register(webhookDeliveriesRoutes(deps));
  await app.register(mcpRoutes(deps));
  await app.register(staticUiRoutes());
  await app.register(openapiRoutes(deps));
  return app;
}
