import { z } from 'zod';
import { ASSET_ROLES, JOB_STATUSES } from './job-status.js';
import { assetMetadataSchema } from './api-schemas.js';

/**
 * The shapes the API answers with. The TS view types are inferred from these, and the OpenAPI
 * document is generated from them, so what the server returns and what it documents can't drift.
 * The server doesn't parse its own responses with them; the OpenAPI test does.
 */

const timestamp = z.iso.datetime();

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('A stable code from the error registry; branch on this, never on the message.'),
      message: z.string(),
      details: z.unknown().optional().describe('For validation_failed: `[{ path, message, code? }]`.'),
    }),
  })
  .describe('The body of every error response.');
/** The body of every error response. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const assetViewSchema = z.object({
  id: z.uuid(),
  companyId: z.uuid(),
  jobId: z.uuid().nullable().describe('The job that produced the asset; null for an upload.'),
  derivedFrom: z.array(z.uuid()).describe('The assets the producing job read (its inputAssetIds); empty for an upload.'),
  sourceTaskId: z.string().nullable(),
  role: z.enum(ASSET_ROLES),
  contentType: z.string(),
  byteSize: z.number().int().min(0),
  sha256: z.string().describe('Hex SHA-256 of the bytes; the content route uses it as the ETag.'),
  filename: z.string(),
  metadata: assetMetadataSchema,
  url: z.string().describe('Where to download the bytes (the asset content route).'),
  createdAt: timestamp,
});
export type AssetView = z.infer<typeof assetViewSchema>;

const lineageNodeSchema = z.object({
  depth: z.number().int().min(1).describe('1: directly; 2: through one more job; …'),
  asset: assetViewSchema,
});

/** GET …/assets/:assetId/lineage */
export const assetLineageSchema = z.object({
  asset: assetViewSchema,
  ancestors: z.array(lineageNodeSchema).describe('What the asset was made from: the inputs of the job that made it, and theirs, nearest first.'),
  descendants: z.array(lineageNodeSchema).describe('What was made from the asset: outputs of every job that read it, and theirs, nearest first.'),
});
export type AssetLineage = z.infer<typeof assetLineageSchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string() });

export const jobViewSchema = z.object({
  id: z.uuid(),
  companyId: z.uuid(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().min(0).max(1),
  stage: z.string().nullable(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  priority: z.number().int(),
  timeoutMs: z.number().int(),
  input: z.unknown().describe("The renderer input as validated (defaults filled in)."),
  sourceTaskId: z.string().nullable(),
  error: jobErrorSchema.nullable().describe('Why a failed or canceled job ended.'),
  warnings: z
    .array(z.string())
    .describe('Things in the input that were not rendered as written (raw HTML shown as text, an image scaled down, text shrunk to fit).'),
  output: assetViewSchema
    .nullable()
    .describe('The result: the first primary asset, once the job is done (null before). Download it from `output.url`.'),
  outputs: z.array(assetViewSchema).describe('Every primary asset, for kinds that make several; empty before the job is done.'),
  assets: z.array(assetViewSchema).describe('Every asset the job made: primaries first, then previews.'),
  inputAssetIds: z.array(z.uuid()).describe('Every asset the input referenced (uploads or earlier outputs).'),
  outputName: z.string().nullable().describe('The file name asked for with `outputName`, if any.'),
  cancelRequested: z.boolean(),
  queuePosition: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe(
      'While queued, on a read of this one job (GET and the job stream\'s snapshot): how many jobs will be claimed before it (0: it is next). Null otherwise, and in lists.',
    ),
  estimatedStartAt: timestamp
    .nullable()
    .describe('While queued: when it should start, from the position and how long recent jobs of the kinds ahead took. Null when unknown (no job finished recently) and when not queued.'),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  updatedAt: timestamp,
});
export type JobView = z.infer<typeof jobViewSchema>;

/** What `POST …/content-jobs` with `Prefer: wait=N` answers when the job ended in time: the job, plus `jobId`. */
export const finishedJobResponseSchema = jobViewSchema.extend({ jobId: z.uuid().describe('The same as `id`, as in the 202 answer.') });
export type FinishedJobResponse = z.infer<typeof finishedJobResponseSchema>;

export const createJobResponseSchema = z.object({
  jobId: z.uuid(),
  status: z.enum(JOB_STATUSES),
  createdAt: timestamp,
});
export type CreateJobResponse = z.infer<typeof createJobResponseSchema>;

/** A page of a list; pass `nextCursor` as `cursor` for the next one (null: last page). */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const companyViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  maxConcurrentJobs: z.number().int(),
  maxQueuedJobs: z.number().int(),
  createdAt: timestamp,
});
export type CompanyView = z.infer<typeof companyViewSchema>;
export const companyListSchema = z.object({ items: z.array(companyViewSchema) });

const webhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
  .describe('`whsec_` + base64: the Standard Webhooks secret that signs this company\'s deliveries. Shown only in this answer; store it now.');

/** The answer to creating a company: the company, plus its webhook secret, shown this once. */
export const createdCompanySchema = companyViewSchema.extend({ webhookSecret: webhookSecretSchema });
export type CreatedCompany = z.infer<typeof createdCompanySchema>;

export const webhookSecretRotationSchema = z.object({
  webhookSecret: webhookSecretSchema,
  rotatedAt: timestamp,
  previousSecretExpiresAt: timestamp.describe('Until then deliveries carry a signature from the previous secret too.'),
});
export type WebhookSecretRotation = z.infer<typeof webhookSecretRotationSchema>;

export const WEBHOOK_DELIVERY_STATES = ['pending', 'sending', 'delivered', 'failed'] as const;

/** One webhook delivery of a job (its outbox row), as the delivery ledger shows it. */
export const webhookDeliveryViewSchema = z.object({
  id: z.string().regex(/^\d+$/).describe('Use it to ask for a redelivery.'),
  eventId: z.string().describe('The event announced (`kiln-event-id`; the `webhook-id` header is `evt_` + it).'),
  url: z.string(),
  state: z
    .enum(WEBHOOK_DELIVERY_STATES)
    .describe('`pending`: waiting for its next attempt; `sending`: an attempt is under way; `delivered`: a 2xx ended it; `failed`: given up.'),
  attempt: z.number().int().min(0).describe('Attempts made so far.'),
  statusCode: z.number().int().nullable().describe("The last attempt's HTTP status, if it got an answer."),
  error: z.string().nullable().describe('Why the last attempt failed.'),
  deliveredAt: timestamp.nullable(),
  failedAt: timestamp.nullable().describe('When it was given up.'),
  nextAttemptAt: timestamp.nullable().describe('When the next attempt is due (pending only).'),
  createdAt: timestamp,
});
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryViewSchema>;
export const webhookDeliveryListSchema = z.object({ items: z.array(webhookDeliveryViewSchema) });

export const rendererViewSchema = z.object({
  kind: z.string(),
  description: z.string(),
  inputSchema: z.unknown().describe("JSON Schema (2020-12) of the kind's `input`."),
  example: z.unknown().describe('A working `input`.'),
});
export type RendererView = z.infer<typeof rendererViewSchema>;
export const rendererListSchema = z.object({ items: z.array(rendererViewSchema) });

/** GET /api: where everything is. */
export const apiIndexSchema = z.object({
  name: z.literal('Kiln'),
  version: z.string(),
  description: z.string(),
  deploymentMode: z.enum(['local_trusted', 'authenticated']),
  authentication: z.string(),
  defaultCompany: z
    .object({ id: z.uuid(), alias: z.literal('default'), url: z.string() })
    .nullable()
    .describe('local_trusted mode: the company to work in; `default` works wherever a company id goes.'),
  kinds: z.array(z.string()),
  links: z.record(z.string(), z.string()).describe('docs, openapi, guideForAgents (/llms.txt), renderers, companies, createJob, uploadAsset, mcp, health, ready.'),
});

export const healthResponseSchema = z.object({ status: z.literal('ok') });

export const readinessResponseSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.boolean()).describe('database, migrations, and worker when this process runs one.'),
});

/** The `data` of a live SSE event: the stored event payload plus its id and time. */
export const liveEventDataSchema = z
  .object({
    jobId: z.uuid(),
    status: z.enum(JOB_STATUSES),
    eventId: z.string().describe('The event id (also the SSE `id:`); resume after it with Last-Event-ID.'),
    createdAt: timestamp,
    progress: z.number().optional(),
    stage: z.string().nullable().optional(),
    attempt: z.number().int().optional(),
    assetIds: z.array(z.uuid()).optional(),
    assetId: z.uuid().optional(),
    role: z.string().optional(),
    error: jobErrorSchema.optional(),
    runAt: z.string().optional(),
  })
  .catchall(z.unknown());

/** The `data` of the `snapshot` event that opens a company's stream. */
export const companySnapshotSchema = z.object({
  companyId: z.uuid(),
  activeJobs: z.array(jobViewSchema).describe('Running, then queued jobs (up to 200 of each).'),
});

/** The `data` of `content_job.queue_position`, a live-only event of a queued job's stream (no `id:`, never stored or replayed). */
export const queuePositionEventSchema = z.object({
  jobId: z.uuid(),
  status: z.literal('queued'),
  queuePosition: z.number().int().min(0).describe('Jobs that will be claimed before this one.'),
  estimatedStartAt: timestamp.nullable(),
  createdAt: timestamp.describe('When the position was computed.'),
});
export type QueuePositionEvent = z.infer<typeof queuePositionEventSchema>;

const kindStatsSchema = z.object({
  kind: z.string(),
  queued: z.number().int().min(0),
  running: z.number().int().min(0),
  finishedLastMinute: z.number().int().min(0).describe('Jobs that ended (done, failed or canceled) in the last 60 s.'),
  finishedLastHour: z.number().int().min(0),
});

/** GET /api/companies/:companyId/stats: queue depth and throughput of one company. */
export const companyStatsSchema = z.object({
  companyId: z.uuid(),
  at: timestamp.describe('When the numbers were read (they may be up to 2 s old).'),
  totals: kindStatsSchema.omit({ kind: true }),
  kinds: z.array(kindStatsSchema).describe('Every kind with a queued, running or recently finished job, by name.'),
});
export type CompanyStats = z.infer<typeof companyStatsSchema>;
