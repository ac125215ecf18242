import {
  DEFAULT_JOB_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  createJobBodySchema,
  type CreateJobResponse,
  type JobView,
  type ListJobsQuery,
  type Page,
} from '@kiln/shared';
import { RenderError, type RendererRegistry } from '@kiln/renderers';
import { KilnError, issuesToDetails, retryLater, validationFailed } from '../../errors.js';
import type { ValidationPool } from '../../render-processes/validation-pool.js';
import { findAssetIds, listAssetsOfJobs, type AssetRow } from '../assets/asset-store.js';
import { toJobView } from './job-view.js';
import { isUuid, type CompanyService } from '../companies/company-service.js';
import type { JobRow, Queryable } from './job-row.js';
import { decideCancelRequest, insertQueuedJob, transitionJob } from './job-lifecycle.js';
import { findJob, flagCancelRequested, listJobs, requestHash } from './job-store.js';
import { assertWebhookUrlAllowed, type OutboundGuard } from '../webhooks/outbound-guard.js';
import { queueEstimator, type QueueEstimate } from './queue-estimates.js';
import type { JobCounters } from '../metrics/kiln-metrics.js';
import type { QueueCapCheck } from './queue-cap-check.js';

export interface JobServiceDeps {
  pool: Queryable;
  renderers: RendererRegistry;
  companies: CompanyService;
  /** Runs the checks that parse or compile user content, off the HTTP thread. */
  validation: Pick<ValidationPool, 'validate'>;
  baseUrl?: string;
  /** Checks `webhookUrl` at submit (authenticated mode); null/absent: no submit-time check. */
  webhookGuard?: OutboundGuard | null;
  /** Counts jobs created and queued jobs canceled in this process (`/metrics`). */
  counters?: JobCounters;
  /** Whether an insert must count the company's queue (absent: always). */
  queueCap?: QueueCapCheck;
}

export interface CreateJobOutcome {
  response: CreateJobResponse;
  /** False for an idempotent replay of an earlier request. */
  created: boolean;
}

/** Creating, reading, listing and canceling jobs: what the HTTP routes (and the CLI) call. */
export function jobService(deps: JobServiceDeps) {
  const { pool, renderers } = deps;

  const toView = (job: JobRow, assets: AssetRow[]) => toJobView(job, assets, deps.baseUrl);
  const queue = queueEstimator(pool);

  async function requireJob(companyId: string, jobId: string): Promise<JobRow> {
    const job = isUuid(jobId) ? await findJob(pool, companyId, jobId) : null;
    if (!job) throw KilnError.of('job_not_found');
    return job;
  }

  /**
   * Checks the request fully before queueing. On this thread: the body schema and the kind's
   * input schema (bounded work: caps are in the schemas). In a render process, with a time
   * budget: the renderer's preflight (anything that parses SVG, Markdown or Vega) and the asset
   * ids the input references, which must then belong to the company.
   */
  async function validate(companyId: string, rawBody: unknown) {
    const parsed = createJobBodySchema.safeParse(rawBody);
    if (!parsed.success) throw validationFailed(issuesToDetails(parsed.error.issues, [], rawBody));
    const body = parsed.data;
    const renderer = renderers.get(body.kind);
    if (!renderer) {
      const known = [...renderers.keys()];
      throw KilnError.of('unknown_kind', `Unknown kind "${body.kind}". Known kinds: ${known.join(', ')}.`, { knownKinds: known });
    }
    const input = renderer.inputSchema.safeParse(body.input);
    if (!input.success) throw validationFailed(issuesToDetails(input.error.issues, ['input'], body.input), `Invalid input for kind "${body.kind}".`);
    let refs: string[] = [];
    if (renderer.runsIn === 'worker') {
      // Kinds that run in the worker parse no user content (render processes don't even load
      // them: provider kinds live on the server side), so their checks are bounded and run here.
      try {
        await renderer.preflight?.(input.data);
      } catch (err) {
        if (!(err instanceof RenderError) || err.code !== 'validation_failed') throw err;
        throw validationFailed(err.options.details ?? [{ path: ['input'], message: err.message }], err.message);
      }
      refs = [...new Set((await renderer.assetRefs?.(input.data)) ?? [])];
    } else if (renderer.preflight || renderer.assetRefs) {
      const outcome = await deps.validation.validate(body.kind, body.input);
      if ('busy' in outcome) throw retryLater('server_busy', 2, 'Every input checker is busy; retry shortly.');
      if (!outcome.ok) {
        const e = outcome.error;
        if (e.code === 'asset_not_found') throw KilnError.of('asset_not_found', e.message);
        if (e.code === 'validation_failed' || e.code === 'unknown_kind') {
          throw validationFailed(e.details ?? [{ path: ['input'], message: e.message }], e.message);
        }
        throw new KilnError(500, 'internal_error', `The input could not be checked (${e.code}).`);
      }
      refs = outcome.assetRefs;
    }
    if (refs.length > 0) {
      const found = await findAssetIds(pool, companyId, refs.filter(isUuid));
      const missing = refs.filter((id) => !found.has(id));
      if (missing.length > 0) {
        await deps.companies.require(companyId); // an unknown company is the truer answer
        throw KilnError.of('asset_not_found', `Referenced asset(s) not found: ${missing.join(', ')}.`, { assetIds: missing });
      }
    }
    return { body, inputAssetIds: refs.filter(isUuid), defaultTimeoutMs: renderer.defaultTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS };
  }

  return {
    toView,

    async create(
      companyId: string,
      rawBody: unknown,
      options: { idempotencyKey?: string; requestedBy?: string } = {},
    ): Promise<CreateJobOutcome> {
      const { body, inputAssetIds, defaultTimeoutMs } = await validate(companyId, rawBody);
      await assertWebhookUrlAllowed(deps.webhookGuard, body.webhookUrl);
      const hash = options.idempotencyKey ? requestHash(body) : null;
      const inserted = await insertQueuedJob(pool, {
        companyId,
        kind: body.kind,
        input: body.input,
        priority: body.priority ?? 0,
        timeoutMs: body.timeoutMs ?? defaultTimeoutMs,
        maxAttempts: body.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        sourceTaskId: body.sourceTaskId ?? null,
        idempotencyKey: options.idempotencyKey ?? null,
        requestHash: hash,
        webhookUrl: body.webhookUrl ?? null,
        requestedBy: options.requestedBy ?? null,
        inputAssetIds,
        outputName: body.outputName ?? null,
        countQueue: deps.queueCap?.mustCount(companyId) ?? true,
      });
      deps.queueCap?.afterInsert(companyId, inserted.outcome === 'created');
      if (inserted.outcome === 'no_company') throw KilnError.of('company_not_found');
      if (inserted.outcome === 'queue_full') {
        throw retryLater('queue_full', 5, `This company already has ${inserted.maxQueued} queued jobs, its limit; retry when some have run.`, {
          maxQueuedJobs: inserted.maxQueued,
        });
      }
      const { job } = inserted;
      const created = inserted.outcome === 'created';
      if (!created && job.requestHash !== hash) throw KilnError.of('idempotency_conflict');
      if (created) deps.counters?.jobCreated(job.kind);
      return { response: { jobId: job.id, status: 'queued', createdAt: job.createdAt.toISOString() }, created };
    },

    /** One job; while it is queued, with its queue position and estimated start. */
    async get(companyId: string, jobId: string): Promise<JobView> {
      const job = await requireJob(companyId, jobId);
      const [assets, estimate] = await Promise.all([
        listAssetsOfJobs(pool, companyId, [job.id]),
        job.status === 'queued' ? queue.estimate(job.id) : null,
      ]);
      return { ...toView(job, assets), ...estimate };
    },

    /** The queue position and estimated start of a queued job; null once it left the queue. */
    /** Hears a queued job's estimate once a second (one queue read per round for all followers); returns the unfollow. */
    followQueueEstimate: (jobId: string, listener: (estimate: QueueEstimate | null) => void) => queue.follow(jobId, listener),

    requireJob,

    async list(companyId: string, query: ListJobsQuery): Promise<Page<JobView>> {
      if (query.cursor && !isUuid(query.cursor)) throw validationFailed([{ path: ['cursor'], message: 'Invalid cursor.' }]);
      const rows = await listJobs(pool, companyId, { ...query, afterId: query.cursor, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const assets = await listAssetsOfJobs(pool, companyId, page.map((j) => j.id));
      const byJob = new Map<string, AssetRow[]>();
      for (const a of assets) byJob.set(a.sourceJobId!, [...(byJob.get(a.sourceJobId!) ?? []), a]);
      return {
        items: page.map((j) => toView(j, byJob.get(j.id) ?? [])),
        nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null,
      };
    },

    /**
     * A queued job is canceled at once; a running one is flagged and its worker fires the job's
     * AbortSignal (NOTIFY, with the 2 s heartbeat as backstop) and records `canceled`.
     */
    async cancel(companyId: string, jobId: string): Promise<JobView> {
      for (let i = 0; i < 3; i++) {
        const job = await requireJob(companyId, jobId);
        switch (decideCancelRequest(job.status)) {
          case 'cancel_now': {
            const r = await transitionJob(pool, {
              jobId, from: 'queued', to: 'canceled',
              fields: { errorCode: 'canceled', errorMessage: 'Canceled on request.' },
              event: { type: 'content_job.canceled', payload: {} },
            });
            if (r) {
              deps.counters?.jobFinished(r.job.kind, 'canceled');
              return toView(r.job, []);
            }
            continue; // Claimed meanwhile: now running, try again.
          }
          case 'flag_running':
            if (await flagCancelRequested(pool, companyId, jobId)) return this.get(companyId, jobId);
            continue;
          case 'not_cancelable':
            throw KilnError.of('job_not_cancelable', `The job has already ended (${job.status}).`);
        }
      }
      throw KilnError.of('job_not_cancelable', 'The job changed state while canceling; try again.');
    },
  };
}

export type JobService = ReturnType<typeof jobService>;
