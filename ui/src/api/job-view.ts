import { isTerminalStatus, TERMINAL_EVENT_TYPES, type AssetView, type CompanyView, type JobEvent, type JobStatus, type JobView, type RendererView } from '@kiln/shared';

export type { AssetView, CompanyView, JobEvent, JobStatus, JobView, RendererView };
// From the contract itself (vite.config.ts keeps zod out of the bundle for these).
export { JOB_STATUSES, isTerminalStatus as isTerminal } from '@kiln/shared';
export const isTerminalEvent = (e: JobEvent) => TERMINAL_EVENT_TYPES.includes(e.type);

/** A job updated by one of its events, as far as the event tells. */
export function applyEvent(job: JobView, e: JobEvent): JobView {
  const d = e.payload;
  if (e.type === 'asset.created') return job;
  const next: JobView = { ...job, status: d.status, updatedAt: e.createdAt };
  if (typeof d.progress === 'number') next.progress = d.progress;
  if (d.stage !== undefined) next.stage = d.stage ?? null;
  if (typeof d.attempt === 'number') next.attempt = d.attempt;
  if (e.type === 'content_job.running' && !job.startedAt) next.startedAt = e.createdAt;
  if (isTerminalStatus(d.status)) {
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
