import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { renderApiReferencePage } from './api-reference-page.js';
import { buildOpenApiDocument, documentedErrorCodes } from './openapi-document.js';

/**
 * GET /api/openapi.json (the OpenAPI 3.1 document) and GET /api/docs (the same, as HTML). Both
 * are public in every deployment mode: they describe the API and hold no company's data.
 */
export function openapiRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    // Built once per app: the schemas and the renderer kinds don't change while the process runs.
    const document = buildOpenApiDocument(deps);
    const json = JSON.stringify(document);
    const page = renderApiReferencePage(document, documentedErrorCodes());

    app.get('/api/openapi.json', { config: { public: true } }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(json));

    app.get('/api/docs', { config: { public: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', page.contentSecurityPolicy)
        .header('x-content-type-options', 'nosniff')
        .send(page.html),
    );
  };
}
