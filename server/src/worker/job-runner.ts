import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AssetMetadata, AssetRole } from '@kiln/shared';
import { RenderError, type InputAsset, type OutputOptions } from '@kiln/renderers';
import type { JobRow, Queryable } from '../services/jobs/job-row.js';
import { releaseOrphanedJobs, type TransactionRunner } from '../services/jobs/job-queue.js';
import { appendJobEvent, transitionJob } from '../services/jobs/job-lifecycle.js';
import { findAsset, insertAsset } from '../services/assets/asset-store.js';
import { GENERATED_NAMESPACE, type StorageService, type StoredObject } from '../services/storage/storage-service.js';
import { KilnError } from '../errors.js';
import { RenderFailure, type RenderPool } from './render-pool.js';
import { retryDelayMs } from './backoff.js';

/** Why a job's AbortSignal fired. */
export type AbortCause = 'canceled' | 'timeout' | 'lost' | 'shutdown';

export class JobAbort extends Error {
  constructor(public readonly cause: AbortCause) {
    super(
      cause === 'canceled' ? 'Canceled on request.'
      : cause === 'timeout' ? 'The job ran longer than its timeout.'
      : cause === 'lost' ? 'This worker no longer owns the job.'
      : 'The worker is shutting down.',
    );
  }
}

export interface JobRunnerDeps {
  pool: Queryable;
  tx: TransactionRunner;
  storage: StorageService;
  renderPool: RenderPool;
  workerId: string;
  maxAssetBytes: number;
  tmpRoot: string;
  log: (obj: Record<string, unknown>, msg: string) => void;
}

/** Progress is written at most this often per job (the last report before a pause always lands). */
const PROGRESS_INTERVAL_MS = 200;

interface PendingOutput {
  options: OutputOptions;
  stored: Promise<StoredObject>;
}

/**
 * Runs one claimed job to a terminal state (or back to the queue): renders in a thread, streams
 * each output into storage, then records the assets, their events and `done` in one transaction.
 * If anything fails after a file was written, the file is deleted, so no file outlives its job
 * without an asset row (the sweeper catches what a crash leaves behind).
 */
export async function runJob(deps: JobRunnerDeps, job: JobRow, controller: AbortController): Promise<void> {
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(new JobAbort('timeout')), job.timeoutMs);
  const outputs: PendingOutput[] = [];
  const progress = createProgressWriter(deps, job);
  let tmpDir: string | null = null;

  try {
    await mkdir(deps.tmpRoot, { recursive: true });
    tmpDir = await mkdtemp(path.join(deps.tmpRoot, `job-${job.id}-`));
    const result = await deps.renderPool.run(job.kind, job.input, tmpDir, {
      signal,
      progress: (fraction, stage) => progress.report(fraction, stage),
      log: (line) => deps.log({ jobId: job.id, kind: job.kind }, line),
      openOutput(options) {
        const body = new PassThrough();
        const stored = deps.storage.write(job.companyId, GENERATED_NAMESPACE, options.filename, body, {
          contentType: options.contentType,
          maxBytes: deps.maxAssetBytes,
          signal,
        });
        // A storage failure (size limit, disk) ends the whole render, not just this stream.
        stored.catch((err) => {
          body.destroy(err);
          if (!signal.aborted) controller.abort(err);
        });
        outputs.push({ options, stored });
        return body;
      },
      readAsset: (assetId) => readCompanyAsset(deps, job.companyId, assetId),
    });
    if (signal.aborted) throw signal.reason;
    const stored = await Promise.all(outputs.map((o) => o.stored));
    await progress.flush();
    await complete(deps, job, outputs, stored, result?.metadata ?? {});
  } catch (err) {
    await progress.flush().catch(() => undefined);
    await discardOutputs(deps, job.companyId, outputs);
    await settleFailure(deps, job, signal.aborted ? signal.reason ?? err : err);
  } finally {
    clearTimeout(timer);
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function readCompanyAsset(deps: JobRunnerDeps, companyId: string, assetId: string): Promise<InputAsset> {
  const asset = /^[0-9a-f-]{36}$/i.test(assetId) ? await findAsset(deps.pool, companyId, assetId) : null;
  if (!asset) throw new RenderError('asset_not_found', `Asset ${assetId} not found.`);
  return {
    id: asset.id,
    contentType: asset.contentType,
    byteSize: asset.byteSize,
    metadata: asset.metadata,
    stream: await deps.storage.read(companyId, asset.objectKey),
  };
}

async function complete(
  deps: JobRunnerDeps,
  job: JobRow,
  outputs: PendingOutput[],
  stored: StoredObject[],
  metadata: Partial<Record<AssetRole, AssetMetadata>>,
) {
  await deps.tx.inTransaction(async (q) => {
    const assetIds: string[] = [];
    for (let i = 0; i < outputs.length; i++) {
      const { options } = outputs[i]!;
      const obj = stored[i]!;
      const asset = await insertAsset(q, {
        companyId: job.companyId,
        provider: obj.provider,
        namespace: obj.namespace,
        objectKey: obj.key,
        contentType: options.contentType,
        byteSize: obj.byteSize,
        sha256: obj.sha256,
        originalFilename: options.filename,
        sourceTaskId: job.sourceTaskId,
        sourceJobId: job.id,
        role: options.role,
        metadata: metadata[options.role] ?? {},
      });
      assetIds.push(asset.id);
      await appendJobEvent(q, {
        companyId: job.companyId,
        jobId: job.id,
        type: 'asset.created',
        payload: { status: 'running', assetId: asset.id, role: asset.role, contentType: asset.contentType, byteSize: asset.byteSize },
      });
    }
    const done = await transitionJob(q, {
      jobId: job.id,
      from: 'running',
      to: 'done',
      lockedBy: deps.workerId,
      fields: { stage: 'done', errorCode: null, errorMessage: null },
      event: { type: 'content_job.done', payload: { assetIds } },
    });
    // Reaped or canceled meanwhile: roll the assets back; the caller deletes the files.
    if (!done) throw new JobAbort('lost');
  });
}

async function discardOutputs(deps: JobRunnerDeps, companyId: string, outputs: PendingOutput[]) {
  const settled = await Promise.allSettled(outputs.map((o) => o.stored));
  for (const s of settled) {
    if (s.status === 'fulfilled') await deps.storage.remove(companyId, s.value.key).catch(() => undefined);
  }
}

interface FailureDecision {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

function classify(err: unknown): FailureDecision | JobAbort {
  if (err instanceof JobAbort) return err;
  if (err instanceof KilnError) return { code: String(err.code), message: err.message, retryable: false };
  if (err instanceof RenderFailure) {
    const e = err.error;
    return { code: e.code === 'aborted' ? 'render_failed' : e.code, message: e.message, retryable: e.retryable, details: e.details };
  }
  if (err instanceof RenderError) return { code: err.code, message: err.message, retryable: err.retryable };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'render_failed', message, retryable: true };
}

async function settleFailure(deps: JobRunnerDeps, job: JobRow, err: unknown) {
  const base = { jobId: job.id, from: 'running' as const, lockedBy: deps.workerId };
  const decision = classify(err);
  if (decision instanceof JobAbort) {
    switch (decision.cause) {
      case 'lost':
        // Normally someone else (a reaper) has moved the job and this matches nothing. If the
        // job is in fact still ours, it must not stay `running` forever: release it exactly as
        // the reaper would (retry, or fail with worker_lost when attempts are used up).
        await releaseOrphanedJobs(deps.pool, deps.workerId, [job.id]);
        return;
      case 'canceled':
        await transitionJob(deps.pool, {
          ...base, to: 'canceled',
          fields: { errorCode: 'canceled', errorMessage: decision.message },
          event: { type: 'content_job.canceled', payload: {} },
        });
        return;
      case 'timeout': {
        const error = { code: 'timeout', message: `The job ran longer than its timeout of ${job.timeoutMs} ms.` };
        await transitionJob(deps.pool, {
          ...base, to: 'failed',
          fields: { errorCode: error.code, errorMessage: error.message },
          event: { type: 'content_job.failed', payload: { error } },
        });
        return;
      }
      case 'shutdown':
        await transitionJob(deps.pool, {
          ...base, to: 'queued',
          fields: { retryDelayMs: 0 },
          event: { type: 'content_job.retrying', payload: { reason: 'worker_shutdown' } },
        });
        return;
    }
  }
  const error = { code: decision.code, message: decision.message };
  deps.log({ jobId: job.id, kind: job.kind, attempt: job.attempt, error }, 'render failed');
  if (decision.retryable && job.attempt < job.maxAttempts) {
    const delay = retryDelayMs(job.attempt);
    await transitionJob(deps.pool, {
      ...base, to: 'queued',
      fields: { errorCode: error.code, errorMessage: error.message, retryDelayMs: delay },
      event: { type: 'content_job.retrying', payload: { error, retryInMs: delay } },
    });
    return;
  }
  await transitionJob(deps.pool, {
    ...base, to: 'failed',
    fields: { errorCode: error.code, errorMessage: error.message },
    event: { type: 'content_job.failed', payload: { error: decision.details ? { ...error, details: decision.details } : error } },
  });
}

/**
 * Coalesces progress reports: renderers may report hundreds per second (ffmpeg), but a progress
 * row + event is a database commit, worth making a few times a second at most. The clock starts
 * with the job, so a job that finishes within the first interval writes no progress at all —
 * its `running` and `done` events say everything. Writes are serialized so events never arrive
 * out of order.
 */
function createProgressWriter(deps: JobRunnerDeps, job: JobRow) {
  let latest: { fraction: number; stage: string } | null = null;
  let lastWrite = Date.now();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const write = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const p = latest;
    latest = null;
    if (!p) return chain;
    lastWrite = Date.now();
    chain = chain
      .then(() =>
        transitionJob(deps.pool, {
          jobId: job.id, from: 'running', to: 'running', lockedBy: deps.workerId,
          fields: { progress: p.fraction, stage: p.stage },
          event: { type: 'content_job.progress', payload: {} },
        }),
      )
      .then(() => undefined, () => undefined);
    return chain;
  };

  return {
    report(fraction: number, stage: string) {
      if (!Number.isFinite(fraction)) return;
      latest = { fraction: Math.min(1, Math.max(0, fraction)), stage: String(stage).slice(0, 100) };
      if (Date.now() - lastWrite >= PROGRESS_INTERVAL_MS) void write();
      else if (!timer) timer = setTimeout(() => void write(), PROGRESS_INTERVAL_MS);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      // The final report is folded into the terminal transition; drop it, wait for in-flight ones.
      latest = null;
      await chain;
    },
  };
}
