import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AssetMetadata, JobStatus, OutputRole } from '@kiln/shared';
import { parseRenderInput, RenderError, type InputAsset, type OutputOptions, type Renderer, type RendererRegistry, type RenderResult } from '@kiln/renderers';
import type { JobRow, Queryable } from '../services/jobs/job-row.js';
import { completeJob, settleRunningJob, type SettleCause, type TransactionRunner } from '../services/jobs/job-lifecycle.js';
import { findAsset } from '../services/assets/asset-store.js';
import { GENERATED_NAMESPACE, type StorageService, type StoredObject } from '../services/storage/storage-service.js';
import { KilnError } from '../errors.js';
import { retryThroughOutage } from '../db/database-errors.js';
import { isRenderCrash, RenderFailure, type RenderHooks, type RenderPool } from '../render-processes/render-pool.js';
import { createProgressWriter } from './progress-writer.js';
import { previewStoredOutputs } from './output-previews.js';

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
  /**
   * When set, a finishing job's slot claims its successor (one job of these kinds) right after
   * the completion commits, and hands it to `start`.
   */
  next?: {
    kinds: string[];
    wanted(): boolean;
    start(jobs: JobRow[]): void;
    /** Counts the completion as a claim in flight (the heartbeat must not take its successor for an orphan). */
    track<T>(claiming: Promise<T>): Promise<T>;
  };
  /** The kinds this worker runs; those marked `runsIn: 'worker'` render here, the rest in render processes. */
  renderers: RendererRegistry;
  tx: TransactionRunner;
  storage: StorageService;
  renderPool: RenderPool;
  workerId: string;
  maxAssetBytes: number;
  /** This worker's scratch root; each job gets a directory under it, removed when the job ends. */
  tmpRoot: string;
  log: (obj: Record<string, unknown>, msg: string) => void;
  /** Told the status this attempt was settled to (`done`, `failed`, `canceled`, or `queued` for a retry). */
  onSettled?: (status: JobStatus) => void;
}

/** How long a finished render waits for the database to come back before it gives up its result. */
const OUTAGE_PATIENCE_MS = 5 * 60_000;
const MAX_WARNINGS = 50;

interface PendingOutput {
  options: OutputOptions;
  stored: Promise<StoredObject>;
}

/**
 * Runs one claimed job to a terminal state (or back to the queue): renders in a render process,
 * streams each output into storage, then records the assets, their events and `done` in one
 * transaction. If anything fails after a file was written, the file is deleted, so no file
 * outlives its job without an asset row (the sweeper catches what a crash leaves behind). A render
 * process that dies under the job is replaced and the render tried once more on a fresh one; a
 * second crash fails the job `render_crashed`. A database outage does not cost the job anything:
 * writes are retried until the database is back.
 */
export async function runJob(deps: JobRunnerDeps, job: JobRow, controller: AbortController): Promise<void> {
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(new JobAbort('timeout')), job.timeoutMs);
  let outputs: PendingOutput[] = [];
  const warnings: string[] = [];
  const progress = createProgressWriter(deps, job);
  const names = outputNamer(job.outputName);
  let tmpDir: string | null = null;
  // The job's scratch folder, made when first asked for: a render process always gets one, a kind
  // that runs in the worker (a remote call, usually) rarely needs it. Synchronous because it is
  // two local syscalls and the in-worker context asks for `tmpDir` as a plain property.
  const scratch = () => {
    if (tmpDir === null) {
      mkdirSync(deps.tmpRoot, { recursive: true });
      tmpDir = mkdtempSync(path.join(deps.tmpRoot, `job-${job.id}-`));
    }
    return tmpDir;
  };

  try {
    const renderer = deps.renderers.get(job.kind);
    const hooksOf = (): RenderHooks => ({
      signal,
      progress: (fraction, stage) => progress.report(fraction, stage),
      log: (line) => deps.log({ jobId: job.id, kind: job.kind }, line),
      warn: (message) => {
        if (warnings.length < MAX_WARNINGS && !warnings.includes(message)) warnings.push(String(message).slice(0, 1000));
      },
      openOutput(asked) {
        const options = { ...asked, filename: names.next(asked) };
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
      checkpoint: (state) => progress.checkpoint(state),
      resume: job.checkpoint ?? undefined,
    });
    const renderOnce = async () =>
      renderer?.runsIn === 'worker'
        ? runInThisProcess(renderer, job, scratch, hooksOf())
        : deps.renderPool.run(job.kind, job.input, scratch(), hooksOf());

    let result;
    try {
      result = await renderOnce();
    } catch (err) {
      if (!isRenderCrash(err) || signal.aborted) throw err;
      deps.log({ jobId: job.id, kind: job.kind, error: err.message }, 'render process crashed; trying once more on a fresh one');
      await discardOutputs(deps, job.companyId, outputs);
      outputs = [];
      warnings.length = 0;
      names.reset();
      result = await renderOnce();
    }
    if (signal.aborted) throw signal.reason;
    let stored = await Promise.all(outputs.map((o) => o.stored));
    let metadata = result?.metadata ?? {};
    if (renderer?.runsIn === 'worker' && renderer.previewOutputs) {
      // Bytes the worker did not make are decoded in a render process, never here.
      const p = { renderPool: deps.renderPool, storage: deps.storage, companyId: job.companyId, tmpDir: scratch(), hooks: hooksOf(), outputs, stored, metadata };
      metadata = await previewStoredOutputs(p);
      if (signal.aborted) throw signal.reason;
      stored = await Promise.all(outputs.map((o) => o.stored));
    }
    await progress.flush();
    await complete(deps, job, outputs, stored, metadata, warnings);
    deps.onSettled?.('done');
  } catch (err) {
    await progress.flush().catch(() => undefined);
    await discardOutputs(deps, job.companyId, outputs);
    await settleFailure(deps, job, signal.aborted ? signal.reason ?? err : err, warnings);
  } finally {
    clearTimeout(timer);
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The stored and download names of a job's outputs. With `outputName`, the primary is called
 * that, with the output's own extension (a PDF stays `.pdf` whatever the caller wrote); further
 * primaries get `-2`, `-3` …; previews get `-preview`. Without it, the renderer's own names.
 */
export function outputNamer(outputName: string | null) {
  const base = outputName?.replace(/\.[A-Za-z0-9]{1,8}$/, '') || null;
  let seen: Record<string, number> = {};
  return {
    next(options: OutputOptions): string {
      if (!base) return options.filename;
      const n = (seen[options.role] = (seen[options.role] ?? 0) + 1);
      const ext = path.extname(options.filename);
      const suffix = (options.role === 'primary' ? '' : `-${options.role}`) + (n > 1 ? `-${n}` : '');
      return `${base}${suffix}${ext}`;
    },
    reset() {
      seen = {};
    },
  };
}

/**
 * A kind that runs in the worker (it only waits on the network, or does nothing heavy): the same
 * hooks as a render process gets, without the process hop. Its errors are the renderer's own.
 */
async function runInThisProcess(renderer: Renderer, job: JobRow, scratch: () => string, hooks: RenderHooks): Promise<RenderResult | null> {
  const result = await renderer.render(parseRenderInput(renderer, job.input), {
    signal: hooks.signal,
    get tmpDir() {
      return scratch();
    },
    progress: hooks.progress,
    log: hooks.log,
    warn: hooks.warn,
    output: hooks.openOutput,
    readAsset: hooks.readAsset,
    checkpoint: hooks.checkpoint,
    resume: hooks.resume,
  });
  return result ?? null;
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

/**
 * Records assets, their events and `done` in one statement (see completeJob), then claims the
 * job's successor. A connection lost around COMMIT leaves us not knowing
 * whether it happened; before trying again, look: if the job is `done` with our objects as its
 * assets, it did.
 */
async function complete(
  deps: JobRunnerDeps,
  job: JobRow,
  outputs: PendingOutput[],
  stored: StoredObject[],
  metadata: Partial<Record<OutputRole, AssetMetadata>>,
  warnings: string[],
) {
  let tried = false;
  await retryThroughOutage(
    async () => {
      if (tried && (await completedAlready(deps.pool, job, stored))) return;
      tried = true;
      const completion = {
        jobId: job.id,
        workerId: deps.workerId,
        warnings,
        outputs: outputs.map(({ options }, i) => ({
          provider: stored[i]!.provider,
          namespace: stored[i]!.namespace,
          objectKey: stored[i]!.key,
          contentType: options.contentType,
          byteSize: stored[i]!.byteSize,
          sha256: stored[i]!.sha256,
          filename: options.filename,
          role: options.role,
          metadata: metadata[options.role] ?? {},
        })),
      };
      const next = deps.next?.wanted() ? { limit: 1, kinds: deps.next.kinds } : null;
      const completing = completeJob(deps.pool, completion, next);
      const { done, claimed } = await (next ? deps.next!.track(completing) : completing);
      if (claimed.length > 0) deps.next!.start(claimed);
      // Reaped or canceled meanwhile: nothing was recorded; the caller deletes the files.
      if (!done) throw new JobAbort('lost');
    },
    {
      deadline: Date.now() + OUTAGE_PATIENCE_MS,
      onRetry: (err) => deps.log({ jobId: job.id, err: String(err) }, 'database unreachable while completing; retrying'),
    },
  );
}

async function completedAlready(q: Queryable, job: JobRow, stored: StoredObject[]): Promise<boolean> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM assets a JOIN content_jobs j ON j.id = a.source_job_id
     WHERE j.id = $1 AND j.status = 'done' AND a.object_key = ANY($2::text[])`,
    [job.id, stored.map((s) => s.key)],
  );
  return rows[0]!.n === stored.length;
}

async function discardOutputs(deps: JobRunnerDeps, companyId: string, outputs: PendingOutput[]) {
  const settled = await Promise.allSettled(outputs.map((o) => o.stored));
  for (const s of settled) {
    if (s.status === 'fulfilled') await deps.storage.remove(companyId, s.value.key).catch(() => undefined);
  }
}

/** The decision table's cause for an error that ended a render. */
export function causeOf(err: unknown, timeoutMs: number): SettleCause {
  if (err instanceof JobAbort) {
    switch (err.cause) {
      case 'canceled':
        return { kind: 'canceled' };
      case 'timeout':
        return { kind: 'timeout', timeoutMs };
      case 'lost':
        return { kind: 'worker_lost' };
      case 'shutdown':
        return { kind: 'shutdown' };
    }
  }
  if (err instanceof KilnError) return { kind: 'failed', error: { code: String(err.code), message: err.message }, retryable: false };
  if (err instanceof RenderFailure) {
    const e = err.error;
    const code = e.code === 'aborted' ? 'render_failed' : e.code;
    return {
      kind: 'failed', error: { code, message: e.message, ...(e.details ? { details: e.details } : {}) }, retryable: e.retryable,
      retryAfterMs: e.retryAfterMs, freeRetry: e.freeRetry,
    };
  }
  if (err instanceof RenderError) {
    return {
      kind: 'failed', error: { code: err.code, message: err.message, ...(err.options.details ? { details: err.options.details } : {}) },
      retryable: err.retryable, retryAfterMs: err.options.retryAfterMs, freeRetry: err.options.freeRetry,
    };
  }
  // Storage and other I/O failures of the runner itself may well pass.
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'failed', error: { code: 'render_failed', message }, retryable: true };
}

async function settleFailure(deps: JobRunnerDeps, job: JobRow, err: unknown, warnings: string[]) {
  const cause = causeOf(err, job.timeoutMs);
  if (cause.kind === 'failed') deps.log({ jobId: job.id, kind: job.kind, attempt: job.attempt, error: cause.error }, 'render failed');
  const settled = await retryThroughOutage(
    () => deps.tx.inTransaction((q) => settleRunningJob(q, job.id, deps.workerId, cause, { warnings })),
    { deadline: Date.now() + OUTAGE_PATIENCE_MS },
  ).catch((e) => deps.log({ jobId: job.id, err: String(e) }, 'could not record how the job ended; the heartbeat will release it'));
  if (settled) deps.onSettled?.(settled);
}
