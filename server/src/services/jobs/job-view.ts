import type { JobView } from '@kiln/shared';
import { toAssetView, type AssetRow } from '../assets/asset-store.js';
import type { JobRow } from './job-row.js';

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
    assets: assets.map((a) => toAssetView(a, baseUrl)),
    cancelRequested: job.cancelRequestedAt !== null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt.toISOString(),
  };
}
