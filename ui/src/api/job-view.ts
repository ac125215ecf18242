import type { AssetView, CompanyView, JobEvent, JobStatus, JobView, LiveEventType, RendererView } from '@kiln/shared';

export type { AssetView, CompanyView, JobEvent, JobStatus, JobView, RendererView };

// The contract's lists, restated so the bundle does not pull in zod; `satisfies` keeps them in step.
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export const isTerminal = (s: JobStatus) => s === 'done' || s === 'failed' || s === 'canceled';
const TERMINAL_EVENTS = ['content_job.done', 'content_job.failed', 'content_job.canceled'] as const satisfies readonly LiveEventType[];
export const isTerminalEvent = (e: JobEvent) => (TERMINAL_EVENTS as readonly string[]).includes(e.type);

/** A job updated by one of its events, as far as the event tells. */
export function applyEvent(job: JobView, e: JobEvent): JobView {
  const d = e.payload;
  if (e.type === 'asset.created') return job;
  const next: JobView = { ...job, status: d.status, updatedAt: e.createdAt };
  if (typeof d.progress === 'number') next.progress = d.progress;
  if (d.stage !== undefined) next.stage = d.stage ?? null;
  if (typeof d.attempt === 'number') next.attempt = d.attempt;
  if (e.type === 'content_job.running' && !job.startedAt) next.startedAt = e.createdAt;
  if (isTerminal(d.status)) {
    next.finishedAt ??= e.createdAt;
    if (d.status === 'done') next.progress = 1;
  }
  if (d.error) next.error = d.error;
  return next;
}

/** Built here rather than taken from `AssetView.url`, which carries KILN_PUBLIC_URL's origin. */
export function assetContentUrl(asset: Pick<AssetView, 'companyId' | 'id'>, download = false): string {
  return `/api/companies/${encodeURIComponent(asset.companyId)}/assets/${encodeURIComponent(asset.id)}/content${download ? '?download=1' : ''}`;
}

/** The job's poster/thumbnail: its preview asset (video poster, waveform, first page). */
export const previewOf = (job: Pick<JobView, 'assets'>) => job.assets.find((a) => a.role === 'preview');
