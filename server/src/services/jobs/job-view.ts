import type { JobView } from '@kiln/shared';
import { toAssetView, type AssetRow } from '../assets/asset-store.js';
import type { JobRow } from './job-row.js';

/** The job's assets, in the order given (`listAssetsOfJobs` reads them primary first, ASSET_ORDER), and its outputs once it is done. */
function outputsOf(job: JobRow, assets: AssetRow[], baseUrl: string) {
  const views = assets.map((a) => toAssetView(a, baseUrl));
  const primaries = job.status === 'done' ? views.filter((a) => a.role === 'primary') : [];
  return { output: primaries[0] ?? null, outputs: primaries, assets: views };
}

/** A job as the API, SSE snapshots and webhooks present it. */
export function toJobView(job: JobRow, assets: AssetRow[], baseUrl = ''): JobView {
  return {
    id: job.id,
    companyId: job.companyId,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    stage: job.stage,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    timeoutMs: job.timeoutMs,
    input: job.input,
    sourceTaskId: job.sourceTaskId,
    error: job.errorCode && job.status !== 'done' ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
    warnings: job.warnings ?? [],
    ...outputsOf(job, assets, baseUrl),
    inputAssetIds: job.inputAssetIds ?? [],
    outputName: job.outputName,
    cancelRequested: job.cancelRequestedAt !== null,
    // Filled in on a read of one queued job (queue-estimates.ts); lists and webhooks leave them null.
    queuePosition: null,
    estimatedStartAt: null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt.toISOString(),
  };
}
