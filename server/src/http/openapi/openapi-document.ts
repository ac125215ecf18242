import { ERROR_CODES } from '@kiln/shared';
import type { AppDeps } from '../../app-deps.js';
import serverPackage from '../../../package.json' with { type: 'json' };
import { kilnOperations, sharedParameters, TAGS } from './openapi-operations.js';
import { componentSchemas } from './openapi-schemas.js';
import type { OpenApiDocument, PathItem } from './openapi-types.js';

/** Codes a job records when it ends badly: they appear in `JobView.error`, never as an HTTP status. */
export const JOB_FAILURE_CODES = [
  'render_failed', 'render_crashed', 'validation_failed', 'asset_not_found', 'timeout', 'worker_lost', 'asset_too_large', 'canceled',
  'provider_rejected', 'provider_auth_failed', 'provider_rate_limited', 'provider_error',
] as const;

const DESCRIPTION = `Kiln renders content (images, charts, documents, speech, video) as asynchronous jobs.
Queue a job with \`POST /api/companies/{companyId}/content-jobs\`, follow it with GET or the events
stream, and download its assets.

**Authentication.** In the default \`local_trusted\` mode (loopback only) every request acts as the
local admin and needs no key. In \`authenticated\` mode every \`/api\` route except health, readiness
and this description needs \`Authorization: Bearer <api key>\`; a company key sees its own company
only, and another company's jobs and assets answer 404.

**Errors.** Every error answers \`{ "error": { "code", "message", "details"? } }\`. Branch on
\`code\`, which is stable; each operation lists the codes it can answer with. An unknown route
answers 404 \`not_found\`. A job that ends badly records one of ${JOB_FAILURE_CODES.map((c) => `\`${c}\``).join(', ')}
in \`error.code\`.`;

/**
 * The OpenAPI 3.1 document of this server, built from the zod schemas its routes validate with
 * and from the renderers it was started with (kinds differ between deployments, so it is built
 * per app rather than shipped as a file).
 */
export function buildOpenApiDocument(deps: Pick<AppDeps, 'renderers' | 'config'>): OpenApiDocument {
  const renderers = [...deps.renderers.values()];
  const paths: Record<string, PathItem> = {};
  for (const { method, path, operation } of kilnOperations({ renderers, keepAliveMs: deps.config.sseKeepAliveMs, metricsPublic: deps.config.metricsPublic })) {
    (paths[path] ??= {})[method] = operation;
  }
  return {
    openapi: '3.1.1',
    info: { title: 'Kiln API', version: serverPackage.version, description: DESCRIPTION },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(deps.config.publicUrl ? { servers: [{ url: deps.config.publicUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(deps.renderers),
      parameters: sharedParameters(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (`authenticated` mode). Admin keys see every company; company keys their own.',
        },
      },
    },
  };
}

/** Codes that are HTTP answers at submit and also what a job records when it finds the same problem later. */
const HTTP_AND_JOB_CODES = new Set(['validation_failed', 'asset_not_found']);

/** Every stable code a client may meet, HTTP and job failure alike (for the reference page). */
export const documentedErrorCodes = () => Object.entries(ERROR_CODES).map(([code, { status, message }]) => ({
  code,
  status: (JOB_FAILURE_CODES as readonly string[]).includes(code) && !HTTP_AND_JOB_CODES.has(code) ? null : status,
  message,
}));
