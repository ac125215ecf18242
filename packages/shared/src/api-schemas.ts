import { z } from 'zod';
import { JOB_STATUSES } from './job-status.js';
import { DEFAULT_LIST_LIMIT, DEFAULT_MAX_QUEUED_JOBS, MAX_JOB_TIMEOUT_MS, MAX_LIST_LIMIT, MAX_QUEUED_JOBS_LIMIT } from './limits.js';

export const uuidSchema = z.string().uuid();

/** Free-form ids that link content to the platform's task or conversation. */
const externalIdSchema = z.string().min(1).max(200);

export const createJobBodySchema = z
  .object({
    kind: z.string().min(1).max(64),
    input: z.unknown(),
    sourceTaskId: externalIdSchema.optional(),
    /** Higher runs first (ties: earlier run_at, then id). Default 0. */
    priority: z.number().int().min(-100).max(100).optional(),
    timeoutMs: z.number().int().min(100).max(MAX_JOB_TIMEOUT_MS).optional(),
    maxAttempts: z.number().int().min(1).max(10).optional(),
    /**
     * The output's file name (download name and stored name). Its extension is the output's own
     * (`report` and `report.txt` both give `report.pdf` for a PDF); previews get `-preview`.
     */
    outputName: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^/\\\x00-\x1f]+$/, 'a file name: no slashes or control characters')
      .optional()
      .describe('The output\'s file name (its extension is the output\'s own); previews get "-preview".'),
    /** POSTed a JSON notification when the job ends (done, failed or canceled); retried on failure. */
    webhookUrl: z
      .string()
      .url()
      .max(2000)
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http or https URL')
      .optional(),
  })
  .strict();
export type CreateJobBody = z.infer<typeof createJobBodySchema>;

/** GET …/content-jobs/:jobId?wait=N: answer when the job ends, or after N seconds (at most 60) with the job as it is. */
export const getJobQuerySchema = z.object({
  wait: z.coerce.number().int().min(0).max(3600).optional(),
});

export const listJobsQuerySchema = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.string().max(64).optional(),
  sourceTaskId: externalIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  cursor: z.string().max(200).optional(),
});
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

export const listAssetsQuerySchema = z.object({
  sourceTaskId: externalIdSchema.optional(),
  jobId: uuidSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  cursor: z.string().max(200).optional(),
});
export type ListAssetsQuery = z.infer<typeof listAssetsQuerySchema>;

export const createCompanyBodySchema = z
  .object({
    name: z.string().min(1).max(200),
    maxConcurrentJobs: z.number().int().min(1).max(1000).optional().describe('Jobs of this company that may run at once (default 4).'),
    maxQueuedJobs: z
      .number()
      .int()
      .min(1)
      .max(MAX_QUEUED_JOBS_LIMIT)
      .optional()
      .describe(`Queued jobs this company may have; past it a submit answers 429 queue_full (default ${DEFAULT_MAX_QUEUED_JOBS}).`),
  })
  .strict();
export type CreateCompanyBody = z.infer<typeof createCompanyBodySchema>;

/** PATCH /api/companies/:companyId (admin): any of the company's settings. */
export const updateCompanyBodySchema = createCompanyBodySchema
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'Give at least one of name, maxConcurrentJobs, maxQueuedJobs.');
export type UpdateCompanyBody = z.infer<typeof updateCompanyBodySchema>;

/** Width, height, duration and page count, as far as they apply to an output. */
export const assetMetadataSchema = z
  .object({
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    format: z.string().optional(),
    durationMs: z.number().optional(),
    pages: z.number().int().optional(),
    sampleRate: z.number().int().optional(),
    fps: z.number().optional(),
  })
  .catchall(z.unknown());
export type AssetMetadata = z.infer<typeof assetMetadataSchema>;

// The response shapes (AssetView, JobView, CompanyView, …) live in api-response-schemas.ts.
