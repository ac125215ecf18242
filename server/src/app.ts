import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MAX_REQUEST_BODY_BYTES } from '@kiln/shared';
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './app-deps.js';
import rateLimit from '@fastify/rate-limit';
import { retryLater, validationFailed } from './errors.js';
import { findUnacceptableJson, parseJsonBody } from './http/json-body.js';
import { answerClientError, answerFrameworkError, installErrorHandler } from './http/error-handler.js';
import { installAuth } from './http/auth.js';
import { installHostHeaderCheck } from './http/host-header.js';
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
import { metricsRoutes } from './routes/metrics-routes.js';
import { statsRoutes } from './routes/stats-routes.js';

/**
 * Fastify's per-request lines ("incoming request", "request completed", "Route … not found") at
 * debug rather than info: at info, a busy server's log would be little else. Requests that
 * errored keep Fastify's levels.
 */
class RequestLinesAtDebug extends LogController {
  override incomingRequest(request: FastifyRequest) {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    if (error) super.requestCompleted(error, request, reply);
    else if (!this.isLogDisabled(request)) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest) {
    if (!this.isLogDisabled(request)) request.log.debug(`Route ${request.raw.method}:${request.raw.url} not found`);
  }
}

/**
 * The HTTP app. Everything it uses comes in through `deps`; it starts no background work itself.
 * `log` is the process's logger (runtime.ts); without it Fastify makes its own from the level.
 */
export async function createApp(deps: AppDeps, log?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    ...(log ? { loggerInstance: log } : { logger: deps.config.logLevel === 'silent' ? false : { level: deps.config.logLevel } }),
    logController: new RequestLinesAtDebug(),
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    genReqId: () => randomUUID(),
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // A request without Host is answered by installHostHeaderCheck, in Kiln's error shape.
    http: { requireHostHeader: false },
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
  installHostHeaderCheck(app);
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
  await app.register(metricsRoutes(deps));
  await app.register(statsRoutes(deps));
  await app.register(staticUiRoutes());
  await app.register(openapiRoutes(deps));
  return app;
}
