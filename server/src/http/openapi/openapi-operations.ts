import { listAssetsQuerySchema, listJobsQuerySchema, QUEUE_POSITION_EVENT, UPLOAD_TYPES, uuidSchema, type ErrorCode } from '@kiln/shared';
import type { Renderer } from '@kiln/renderers';
import { IDEMPOTENCY_KEY } from '../../routes/content-jobs-routes.js';
import { EVENT_ID } from '../../routes/events-routes.js';
import { errorResponses, jsonResponse, JSON_BODY_ERRORS, sseResponse } from './openapi-responses.js';
import { jsonSchemaOf, queryParameters } from './openapi-schemas.js';
import {
  parameterRef,
  schemaRef,
  type HeaderObject,
  type HttpMethod,
  type OperationObject,
  type ParameterObject,
  type ResponseObject,
} from './openapi-types.js';

export interface DocumentedOperation {
  method: HttpMethod;
  /** OpenAPI form: `{param}`, not Fastify's `:param`. */
  path: string;
  operation: OperationObject;
}

interface OperationInput extends Omit<OperationObject, 'responses' | 'security'> {
  responses: Record<string, ResponseObject>;
  /** Stable error codes this operation may answer with (401 and 500 are added for every one). */
  errors?: ErrorCode[];
  errorNotes?: Partial<Record<ErrorCode, string>>;
  /** Needs no API key in `authenticated` mode either. */
  public?: boolean;
}

export const TAGS = [
  { name: 'System', description: 'Liveness, readiness and this API description.' },
  { name: 'Companies', description: 'Tenants. Every job and asset belongs to one company.' },
  { name: 'Content jobs', description: 'Ask for content to be rendered; follow and cancel the jobs.' },
  { name: 'Events', description: 'Server-Sent Events streams of job events, resumable with Last-Event-ID.' },
  { name: 'Assets', description: 'The rendered files: metadata, downloads with ranges, deletion.' },
  { name: 'Renderers', description: 'The kinds this server renders, with their input schemas and examples.' },
  { name: 'Webhooks', description: 'Signed job notifications: the signing secret, the delivery ledger, redelivery.' },
  { name: 'MCP', description: 'Kiln as Model Context Protocol tools and resources, over streamable HTTP (`kiln mcp` serves the same over stdio).' },
];

/** Parameters used by several operations (published under `components.parameters`). */
export function sharedParameters(): Record<string, ParameterObject> {
  const uuid = jsonSchemaOf(uuidSchema);
  const eventId = { type: 'string', pattern: EVENT_ID.source };
  return {
    CompanyId: { name: 'companyId', in: 'path', required: true, schema: uuid, description: 'The company (tenant). A company key may only name its own; any other answers 404.' },
    JobId: { name: 'jobId', in: 'path', required: true, schema: uuid },
    AssetId: { name: 'assetId', in: 'path', required: true, schema: uuid },
    DeliveryId: { name: 'deliveryId', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' }, description: 'A webhook delivery (`id` in the ledger).' },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
      description:
        'Retry-safe creation: the same key with the same body returns the original 202 (with `Idempotent-Replayed: true`) instead of a second job; the same key with another body is a 409.',
      example: 'report-2025-q3-cover',
    },
    LastEventId: {
      name: 'Last-Event-ID',
      in: 'header',
      schema: eventId,
      description: 'Resume after this event id (EventSource sends it on reconnect). Wins over `since`.',
    },
    Since: { name: 'since', in: 'query', schema: eventId, description: 'Like Last-Event-ID, for clients that cannot set headers.' },
  };
}

const companyPath = '/api/companies/{companyId}';
const jobPath = `${companyPath}/content-jobs/{jobId}`;
const assetPath = `${companyPath}/assets/{assetId}`;
const header = (description: string): HeaderObject => ({ description, schema: { type: 'string' } });

const contentHeaders: Record<string, HeaderObject> = {
  ETag: header('The quoted SHA-256 of the bytes; send it back in If-None-Match or If-Range.'),
  'Accept-Ranges': header('`bytes`'),
  'Content-Length': header('Bytes in this response.'),
  'Content-Disposition': header('`inline`, or `attachment` with `?download=1`, with the file name.'),
  'Cache-Control': header('`private, max-age=31536000, immutable`: an asset never changes.'),
};

/**
 * Every route the server registers, described. Request and response bodies point at component
 * schemas generated from the zod schemas the routes use; this file adds what zod doesn't know:
 * statuses, headers, error codes and prose.
 */
export function kilnOperations(o: { renderers: Renderer<any>[]; keepAliveMs: number; metricsPublic?: boolean }): DocumentedOperation[] {
  const scoped = (codes: ErrorCode[] = []): ErrorCode[] => ['company_not_found', ...codes];
  const list: [HttpMethod, string, OperationInput][] = [
    ['get', '/api', {
      operationId: 'getApiIndex', tags: ['System'], summary: 'Where everything is', public: true,
      description: 'A JSON index: links to the docs, the OpenAPI document, the guide for agents, renderers, companies, MCP and health; the default company in local_trusted mode.',
      responses: { 200: jsonResponse('The index.', 'ApiIndex') },
    }],
    ['get', '/llms.txt', {
      operationId: 'getAgentGuide', tags: ['System'], summary: 'A short guide for agents (plain text)', public: true,
      description: 'What Kiln does, the default company, one example per kind, how to wait, stream and upload.',
      responses: { 200: { description: 'The guide.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    }],
    ['get', '/api/health', {
      operationId: 'getHealth', tags: ['System'], summary: 'Liveness', public: true,
      description: 'Answers as long as the process serves HTTP; checks nothing else.',
      responses: { 200: jsonResponse('The process is up.', 'HealthResponse') },
    }],
    ['get', '/api/ready', {
      operationId: 'getReadiness', tags: ['System'], summary: 'Readiness', public: true,
      description: 'Checks the database, that migrations are applied and, when this process runs one, the worker.',
      responses: {
        200: jsonResponse('Ready to serve.', 'ReadinessResponse'),
        503: jsonResponse('Not ready; `checks` says which check failed.', 'ReadinessResponse'),
      },
    }],
    ['get', '/api/openapi.json', {
      operationId: 'getOpenApiDocument', tags: ['System'], summary: 'This OpenAPI 3.1 document', public: true,
      responses: { 200: { description: 'The document.', content: { 'application/json': { schema: { type: 'object' } } } } },
    }],
    ['get', '/api/docs', {
      operationId: 'getApiReference', tags: ['System'], summary: 'A readable API reference (HTML)', public: true,
      description: 'The same document as an HTML page that loads nothing from elsewhere.',
      responses: { 200: { description: 'The reference page.', content: { 'text/html': { schema: { type: 'string' } } } } },
    }],
    ['get', '/metrics', {
      operationId: 'getMetrics', tags: ['System'], summary: 'Prometheus metrics (text exposition format)', public: o.metricsPublic,
      description:
        'Counters and histograms of this process: `kiln_jobs_created_total{kind}`, `kiln_jobs_finished_total{kind,status}`, `kiln_job_pickup_seconds` (claim time − run_at), ' +
        '`kiln_job_render_seconds{kind}` (running → terminal), `kiln_webhook_deliveries_total{outcome}` (delivered, retrying, failed), `kiln_sse_clients`, and the Node.js process metrics (`process_*`, `nodejs_*`). ' +
        'Gauges read from the database when scraped (at most once a second), the same in every process: `kiln_jobs_queued{kind}`, `kiln_jobs_running{kind}`. ' +
        'Counters are per process: scrape every API and worker process and sum them. In `authenticated` mode it needs an admin key unless `KILN_METRICS_PUBLIC=true`. ' +
        'A worker-only process serves the same on its own port with `KILN_METRICS_PORT`.',
      responses: {
        200: {
          description: 'The metrics, as Prometheus text (`text/plain; version=0.0.4`).',
          content: { 'text/plain': { schema: { type: 'string' }, example: '# HELP kiln_jobs_queued Jobs queued now, every company.\n# TYPE kiln_jobs_queued gauge\nkiln_jobs_queued{kind="image"} 3\n' } },
        },
      },
      errors: ['forbidden'],
      errorNotes: { forbidden: 'This needs an admin key (or `KILN_METRICS_PUBLIC=true`).' },
    }],

    ['get', '/api/companies', {
      operationId: 'listCompanies', tags: ['Companies'], summary: 'List companies',
      description: 'An admin sees every company; a company key sees its own only.',
      responses: { 200: jsonResponse('The companies.', 'CompanyList') },
    }],
    ['post', '/api/companies', {
      operationId: 'createCompany', tags: ['Companies'], summary: 'Create a company',
      description: 'Admin only.',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: schemaRef('CreateCompanyBody'), example: { name: 'Acme Marketing', maxConcurrentJobs: 4 } } },
      },
      responses: {
        201: jsonResponse('Created, with the company\'s webhook secret: shown in this answer only.', 'CreatedCompany', { Location: header('The new company.') }),
      },
      errors: [...JSON_BODY_ERRORS, 'forbidden'],
      errorNotes: { forbidden: 'This needs an admin key.' },
    }],
    ['get', companyPath, {
      operationId: 'getCompany', tags: ['Companies'], summary: 'Get a company',
      parameters: [parameterRef('CompanyId')],
      responses: { 200: jsonResponse('The company.', 'CompanyView') },
      errors: scoped(),
    }],
    ['patch', companyPath, {
      operationId: 'updateCompany', tags: ['Companies'], summary: 'Change a company\'s settings',
      description: 'Admin only. Any of name, maxConcurrentJobs, maxQueuedJobs.',
      parameters: [parameterRef('CompanyId')],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: schemaRef('UpdateCompanyBody'), example: { maxQueuedJobs: 50000 } } },
      },
      responses: { 200: jsonResponse('The company as it is now.', 'CompanyView') },
      errors: [...JSON_BODY_ERRORS, 'forbidden', ...scoped()],
      errorNotes: { forbidden: 'This needs an admin key.' },
    }],

    ['get', `${companyPath}/stats`, {
      operationId: 'getCompanyStats', tags: ['Companies'], summary: 'Queue depth and throughput of a company',
      description: 'Queued and running jobs now, and jobs that ended in the last minute and hour, by kind and in total. The numbers may be up to 2 s old.',
      parameters: [parameterRef('CompanyId')],
      responses: { 200: jsonResponse('The numbers.', 'CompanyStats') },
      errors: scoped(),
    }],

    ['post', `${companyPath}/content-jobs`, {
      operationId: 'createContentJob', tags: ['Content jobs'], summary: 'Queue a content job',
      description:
        'Validates everything a render needs (the body, the kind, the input against the renderer\'s schema, renderer checks such as compiling a chart spec, and that referenced assets belong to the company) and queues the job. ' +
        'With `Prefer: wait=N` (N ≤ 60 seconds; more counts as 60) the answer waits for the job: 200 with the finished job if it ends in time, else the usual 202. Otherwise follow it with GET (`?wait=N` works there too) or the events stream.',
      parameters: [
        parameterRef('CompanyId'),
        parameterRef('IdempotencyKey'),
        { name: 'Prefer', in: 'header', schema: { type: 'string', pattern: '^wait=\\d+$' }, description: '`wait=N`: wait up to N seconds (at most 60) for the job to end.', example: 'wait=30' },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: schemaRef('CreateJobBody'),
            // One example per kind (`example` and `examples` are mutually exclusive in OpenAPI).
            examples: Object.fromEntries(
              o.renderers.map((r) => [r.kind, { summary: `${r.kind} job`, description: r.description, value: { kind: r.kind, input: r.example } }]),
            ),
          },
        },
      },
      responses: {
        202: jsonResponse('Queued (or, with a replayed Idempotency-Key, the original answer).', 'CreateJobResponse', {
          Location: header('The job.'),
          'Idempotent-Replayed': header('`true` when this answers an earlier request with the same Idempotency-Key.'),
          'Preference-Applied': header('`wait=N` when a `Prefer: wait` was honoured (N as applied).'),
        }),
        200: jsonResponse('`Prefer: wait=N` and the job ended in time: the job as GET shows it, plus `jobId`.', 'FinishedJobResponse', {
          Location: header('The job.'),
          'Preference-Applied': header('`wait=N`, N as applied (at most 60).'),
        }),
      },
      errors: scoped([...JSON_BODY_ERRORS, 'unknown_kind', 'webhook_url_forbidden', 'asset_not_found', 'idempotency_conflict', 'queue_full', 'server_busy']),
      errorNotes: {
        webhook_url_forbidden:
          '`authenticated` mode: the host of `webhookUrl` does not resolve, or resolves to an address Kiln does not send to (loopback, private, link-local, CGNAT, metadata, multicast, reserved …; private ones are allowed with `KILN_WEBHOOK_ALLOW_PRIVATE=true`).',
        validation_failed: 'The body, its `input` or the Idempotency-Key is not valid; `details` lists the paths.',
        unknown_kind: 'No renderer handles this kind; `details.knownKinds` lists those that do.',
        asset_not_found: 'The input refers to an asset this company does not have.',
      },
    }],
    ['get', `${companyPath}/content-jobs`, {
      operationId: 'listContentJobs', tags: ['Content jobs'], summary: 'List jobs, newest first',
      parameters: [
        parameterRef('CompanyId'),
        ...queryParameters(listJobsQuerySchema, {
          status: 'Only jobs in this state.',
          kind: 'Only jobs of this kind.',
          sourceTaskId: 'Only jobs created for this task.',
          limit: 'Page size.',
          cursor: 'The `nextCursor` of the previous page.',
        }),
      ],
      responses: { 200: jsonResponse('A page of jobs, each with its assets.', 'JobPage') },
      errors: scoped(['validation_failed']),
    }],
    ['get', jobPath, {
      operationId: 'getContentJob', tags: ['Content jobs'], summary: 'Get a job',
      description:
        'With `?wait=N` (seconds, at most 60) the answer comes as soon as the job ends, or after N seconds with the job as it is then. ' +
        'A queued job carries `queuePosition` (jobs that will be claimed before it: higher priority first, then earlier `run_at`; another company\'s jobs count only up to the slots that company has free) and `estimatedStartAt` (from the position and how long recent jobs of the kinds ahead took; null without recent history).',
      parameters: [
        parameterRef('CompanyId'),
        parameterRef('JobId'),
        { name: 'wait', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'Seconds to wait for the job to end (at most 60).' },
      ],
      responses: { 200: jsonResponse('The job; `output` is its result once done.', 'JobView') },
      errors: scoped(['job_not_found', 'validation_failed']),
    }],
    ['post', `${jobPath}/cancel`, {
      operationId: 'cancelContentJob', tags: ['Content jobs'], summary: 'Cancel a job',
      description: 'Takes no body. A queued job is canceled at once; a running one is flagged and its worker stops the render.',
      parameters: [parameterRef('CompanyId'), parameterRef('JobId')],
      responses: {
        200: jsonResponse('Canceled (it was still queued).', 'JobView'),
        202: jsonResponse('Cancellation requested (it is running); `cancelRequested` is true until the worker records `canceled`.', 'JobView'),
      },
      errors: scoped(['job_not_found', 'job_not_cancelable']),
    }],

    ['get', `${jobPath}/events`, {
      operationId: 'streamContentJobEvents', tags: ['Events'], summary: "Stream one job's events (SSE)",
      description: 'Replays every stored event of the job (or those after Last-Event-ID), then live ones.',
      parameters: [parameterRef('CompanyId'), parameterRef('JobId'), parameterRef('LastEventId'), parameterRef('Since')],
      responses: {
        200: sseResponse({
          snapshotSchema: 'JobView', snapshotWhat: '`JobView`', closes: true, keepAliveMs: o.keepAliveMs,
          liveOnly: { [QUEUE_POSITION_EVENT]: ['QueuePositionEvent', 'while the job is queued, sent when its `queuePosition` changes (with the `estimatedStartAt` of that moment), at most once a second.'] },
        }),
      },
      errors: scoped(['job_not_found', 'validation_failed']),
      errorNotes: { validation_failed: 'Last-Event-ID or `since` is not an event id.' },
    }],
    ['get', `${companyPath}/events`, {
      operationId: 'streamCompanyEvents', tags: ['Events'], summary: "Stream every job's events of a company (SSE)",
      description: 'Live events only, unless Last-Event-ID (or `since`) asks for a replay from that point.',
      parameters: [parameterRef('CompanyId'), parameterRef('LastEventId'), parameterRef('Since')],
      responses: { 200: sseResponse({ snapshotSchema: 'CompanySnapshot', snapshotWhat: '`CompanySnapshot`, the active jobs', closes: false, keepAliveMs: o.keepAliveMs }) },
      errors: scoped(['validation_failed']),
      errorNotes: { validation_failed: 'Last-Event-ID or `since` is not an event id.' },
    }],

    ['get', `${companyPath}/assets`, {
      operationId: 'listAssets', tags: ['Assets'], summary: 'List assets, newest first',
      parameters: [
        parameterRef('CompanyId'),
        ...queryParameters(listAssetsQuerySchema, {
          sourceTaskId: 'Only assets made for this task.',
          jobId: 'Only the outputs of this job.',
          limit: 'Page size.',
          cursor: 'The `nextCursor` of the previous page.',
        }),
      ],
      responses: { 200: jsonResponse('A page of assets.', 'AssetPage') },
      errors: scoped(['validation_failed']),
    }],
    ['post', `${companyPath}/assets`, {
      operationId: 'uploadAsset', tags: ['Assets'], summary: 'Upload a file as an asset',
      description:
        'The file as the raw body, its type as `Content-Type`, its name as `?filename=` — or a `multipart/form-data` form with a `file` field. ' +
        'Streamed to storage (at most `MAX_UPLOAD_BYTES`, default 100 MiB; text types less, see the error). Binary types must be what their bytes say ' +
        '(else 415); text types are parsed as what they claim to be (UTF-8; JSON; CSV/TSV with at most 100,000 rows; SVG well-formed, no external references); ' +
        'images must decode within 16,384 px a side and 40 megapixels. The answer is the asset (role `input`), usable wherever an input takes an asset id. ' +
        `Accepted types: ${Object.keys(UPLOAD_TYPES).join(', ')}.`,
      parameters: [
        parameterRef('CompanyId'),
        { name: 'filename', in: 'query', schema: { type: 'string', maxLength: 200 }, description: 'The file\'s name (its download name).', example: 'logo.png' },
      ],
      requestBody: {
        required: true,
        content: {
          'application/octet-stream': { schema: { type: 'string', format: 'binary' }, description: 'Any accepted type, sent as itself (use the real Content-Type).' },
          'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } },
        } as never,
      },
      responses: { 201: jsonResponse('Stored.', 'AssetView', { Location: header('The asset.') }) },
      errors: scoped(['validation_failed', 'payload_too_large', 'unsupported_media_type', 'server_busy']),
      errorNotes: {
        server_busy: 'Every file checker stayed busy for 30 s; nothing was kept. Retry after `Retry-After`.',
        unsupported_media_type: 'The type is not accepted, or the bytes are not what the Content-Type says (`details.declared`, `details.detected`).',
        payload_too_large: 'Larger than the limit for its type (`details.limit`); nothing was kept.',
        validation_failed: 'The file does not parse as its type, or an image is over the raster caps (`details`: path, limit, actual).',
      },
    }],
    ['get', assetPath, {
      operationId: 'getAsset', tags: ['Assets'], summary: "Get an asset's metadata",
      parameters: [parameterRef('CompanyId'), parameterRef('AssetId')],
      responses: { 200: jsonResponse('The asset.', 'AssetView') },
      errors: scoped(['asset_not_found']),
    }],
    ['get', `${assetPath}/lineage`, {
      operationId: 'getAssetLineage', tags: ['Assets'], summary: 'What an asset was made from, and what was made from it',
      description: 'Follows jobs both ways (their `inputAssetIds` and outputs) up to 20 steps, nearest first, 500 assets at most.',
      parameters: [parameterRef('CompanyId'), parameterRef('AssetId')],
      responses: { 200: jsonResponse('The lineage.', 'AssetLineage') },
      errors: scoped(['asset_not_found']),
    }],
    ['get', `${assetPath}/content`, contentOperation('get')],
    ['head', `${assetPath}/content`, contentOperation('head')],
    ['delete', assetPath, {
      operationId: 'deleteAsset', tags: ['Assets'], summary: 'Delete an asset',
      description: 'Removes the row, then the file (a file left behind is removed by the sweeper).',
      parameters: [parameterRef('CompanyId'), parameterRef('AssetId')],
      responses: { 204: { description: 'Deleted.' } },
      errors: scoped(['asset_not_found']),
    }],

    ['post', `${companyPath}/webhook-secret/rotate`, {
      operationId: 'rotateWebhookSecret', tags: ['Webhooks'], summary: "Rotate the company's webhook secret",
      description:
        'Takes no body. Returns the new `whsec_…` secret, once. For 24 h deliveries carry two signatures in `webhook-signature` (new and previous secret, space-separated), so a receiver verifies with either while it switches; after that only the new one. Rotating again within the 24 h drops the oldest secret at once. An admin key, or the company\'s own.',
      parameters: [parameterRef('CompanyId')],
      responses: { 200: jsonResponse('The new secret.', 'WebhookSecretRotation') },
      errors: scoped(),
    }],
    ['get', `${jobPath}/webhook-deliveries`, {
      operationId: 'listWebhookDeliveries', tags: ['Webhooks'], summary: "A job's webhook deliveries",
      description: 'One row per delivery of the job\'s terminal event (a redelivery of a finished one adds a row), oldest first, with its last attempt\'s outcome. Empty for a job without `webhookUrl` or still running.',
      parameters: [parameterRef('CompanyId'), parameterRef('JobId')],
      responses: { 200: jsonResponse('The deliveries.', 'WebhookDeliveryList') },
      errors: scoped(['job_not_found']),
    }],
    ['post', `${companyPath}/webhook-deliveries/{deliveryId}/redeliver`, {
      operationId: 'redeliverWebhook', tags: ['Webhooks'], summary: 'Send a delivery again',
      description:
        'Takes no body. A pending delivery is made due now (if an attempt is under way, nothing changes). A delivered or given-up one stays in the ledger as it was and a new delivery of the same event is queued, due now, with the same `webhook-id` (receivers that de-duplicate by it will see a repeat) and attempts counted from 1; if the event already has a pending delivery, that one is made due now instead. The answer is the delivery that will carry the attempt.',
      parameters: [parameterRef('CompanyId'), parameterRef('DeliveryId')],
      responses: { 202: jsonResponse('An attempt will be made soon.', 'WebhookDeliveryView') },
      errors: scoped(['webhook_delivery_not_found']),
    }],

    ['get', '/api/renderers', {
      operationId: 'listRenderers', tags: ['Renderers'], summary: 'List renderer kinds', public: true,
      description: 'Each kind with its input JSON Schema and a working example: the same schemas as the `CreateJobBody` variants here.',
      responses: { 200: jsonResponse('The kinds.', 'RendererList') },
    }],
    ...mcpOperations(),
  ];

  return list.map(([method, path, input]) => ({ method, path, operation: finish(input) }));
}

/**
 * `/mcp` speaks JSON-RPC as the MCP streamable HTTP transport defines it, not Kiln's JSON API, so
 * its body is described in prose (with no `application/json` request body and example: there is
 * no single request that stands for the protocol) and its 400/404 answers are JSON-RPC errors.
 */
function mcpOperations(): [HttpMethod, string, OperationInput][] {
  const session = { name: 'Mcp-Session-Id', in: 'header' as const, schema: { type: 'string' }, description: 'The session id the initialize answer returned (every request after it).' };
  const rpcError = (description: string): ResponseObject => ({ description, content: { 'application/json': { schema: { type: 'object', description: 'A JSON-RPC error: `{ jsonrpc, error: { code, message }, id }`.' } } } });
  const common = {
    tags: ['MCP'],
    errors: ['forbidden', 'server_busy'] as ErrorCode[],
    errorNotes: { forbidden: 'The request came with an `Origin` that is not this server\'s (DNS rebinding protection, as the MCP specification asks).', server_busy: 'The process keeps as many MCP sessions as it may; retry shortly.' } as Partial<Record<ErrorCode, string>>,
  };
  return [
    ['post', '/mcp', {
      ...common,
      operationId: 'postMcpMessage', summary: 'Send MCP messages (streamable HTTP)',
      description:
        'The body is one JSON-RPC message of the Model Context Protocol (`Content-Type: application/json`; send `Accept: application/json, text/event-stream`). ' +
        'Start with `initialize` (no Mcp-Session-Id); its answer carries the `Mcp-Session-Id` header to send from then on. Tools: one per renderer kind (`generate_image`, `render_chart`, `render_document`, `synthesize_speech`, `render_video`, `render_<kind>` for others) that creates a job and waits for it with progress notifications, and `get_job`, `list_jobs`, `cancel_job`, `upload_asset`, `list_assets`; resources `kiln://assets/{assetId}`. ' +
        'Every call acts as the API key of the request that opened the session (a company key reaches its own company only); the session belongs to that key.',
      parameters: [session, { name: 'MCP-Protocol-Version', in: 'header', schema: { type: 'string' }, description: 'The protocol version agreed in initialize.' }],
      responses: {
        200: {
          description: 'A request\'s answer: `text/event-stream` carrying its progress notifications and then its JSON-RPC response, or the response as `application/json`.',
          headers: { 'Mcp-Session-Id': header('The session id (on the answer to initialize).') },
          content: { 'text/event-stream': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object', description: 'A JSON-RPC response.' } } },
        },
        202: { description: 'A notification or response from the client was accepted (no body).' },
        400: rpcError('Not initialize and no Mcp-Session-Id, or not a valid JSON-RPC message (a body that is not JSON at all gets Kiln\'s `invalid_json`).'),
        404: rpcError('No such session (it ended, or another key opened it): start a new one with initialize.'),
      },
    }],
    ['get', '/mcp', {
      ...common,
      operationId: 'streamMcpSession', summary: "The MCP session's server-to-client stream (SSE)",
      description: 'Server notifications that belong to no request (such as `notifications/tools/list_changed`), as `text/event-stream`.',
      parameters: [session],
      responses: {
        200: { description: 'The stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        400: rpcError('No Mcp-Session-Id.'),
        404: rpcError('No such session.'),
      },
    }],
    ['delete', '/mcp', {
      ...common,
      operationId: 'deleteMcpSession', summary: 'End an MCP session',
      description: 'Ends the session. Jobs its tool calls started keep running (find them with `list_jobs`).',
      parameters: [session],
      responses: { 200: { description: 'Ended.' }, 400: rpcError('No Mcp-Session-Id.'), 404: rpcError('No such session.') },
    }],
  ];
}

function contentOperation(method: 'get' | 'head'): OperationInput {
  const head = method === 'head';
  return {
    operationId: head ? 'headAssetContent' : 'getAssetContent',
    tags: ['Assets'],
    summary: head ? "An asset's download headers, without the bytes" : "Download an asset's bytes",
    description: 'Supports one `bytes=` range (several are answered with the whole body), If-Range, and If-None-Match with the ETag.',
    parameters: [
      parameterRef('CompanyId'),
      parameterRef('AssetId'),
      { name: 'download', in: 'query', schema: { type: 'string', enum: ['1'] }, description: '`1`: `Content-Disposition: attachment`.' },
      { name: 'Range', in: 'header', schema: { type: 'string', pattern: '^bytes=\\d*-\\d*$' }, description: 'One range: `bytes=0-1023`, `bytes=1024-` or `bytes=-500`.', example: 'bytes=0-1023' },
      { name: 'If-Range', in: 'header', schema: { type: 'string' }, description: 'The ETag; the range is honoured only if it still matches.' },
      { name: 'If-None-Match', in: 'header', schema: { type: 'string' }, description: 'The ETag; a match answers 304.' },
    ],
    responses: {
      200: {
        description: head ? 'The headers of a full download.' : 'The whole file, with the asset\'s content type.',
        headers: contentHeaders,
        ...(head ? {} : { content: { '*/*': { schema: { description: 'The asset bytes.' } } } }),
      },
      206: {
        description: head ? 'The headers of a partial download.' : 'The requested range.',
        headers: { ...contentHeaders, 'Content-Range': header('`bytes first-last/size`') },
        ...(head ? {} : { content: { '*/*': { schema: { description: 'The bytes of the range.' } } } }),
      },
      ...(head
        ? {}
        : {
            302: {
              description:
                'S3 storage with `KILN_S3_PRESIGN_SECONDS` set: download from a presigned URL that answers with the asset\'s content type and disposition (and honours Range). HTML, SVG and XML are never redirected.',
              headers: { Location: header('The presigned URL, valid `KILN_S3_PRESIGN_SECONDS`.') },
            },
          }),
      304: { description: 'If-None-Match matched: the copy the client has is current.', headers: { ETag: contentHeaders.ETag! } },
    },
    errors: ['company_not_found', 'asset_not_found', 'range_not_satisfiable'],
    errorNotes: { range_not_satisfiable: 'The range starts past the end; `Content-Range: bytes */size` gives the size.' },
  };
}

/** Adds the errors every operation shares and the security requirement. */
function finish(input: OperationInput): OperationObject {
  const { errors = [], errorNotes, public: isPublic, responses, ...rest } = input;
  const shared: ErrorCode[] = isPublic ? [] : ['unauthorized', 'rate_limited', 'database_unavailable', 'database_busy'];
  const all: ErrorCode[] = [...new Set([...errors, ...shared, 'internal_error' as const])];
  const notes = {
    unauthorized: 'A valid API key is required (`authenticated` mode only).',
    rate_limited: 'More requests per second than `KILN_RATE_LIMIT_PER_SECOND` from this key (`authenticated` mode); wait `Retry-After` seconds.',
    database_unavailable: 'PostgreSQL cannot be reached right now (restarting, network); retry after `Retry-After` seconds.',
    database_busy: 'Every database connection stayed busy for `KILN_DB_ACQUIRE_TIMEOUT_MS`; retry after `Retry-After` seconds.',
    ...errorNotes,
  };
  return {
    ...rest,
    responses: { ...responses, ...errorResponses(all, notes) },
    ...(isPublic ? { security: [] } : {}),
  };
}
