import type { AssetView, CompanyView, CreateJobResponse, JobEventPayload, JobStatus, JobView, LiveEventType, Page, RendererView } from '@kiln/shared';
import { apiFetch } from './http.js';
import { openEventStream, type EventStream, type StreamState } from './sse.js';

export type { AssetView, CompanyView, JobStatus, JobView, RendererView };

// The contract's lists, restated so the bundle does not pull in zod; `satisfies` keeps them in step.
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export const isTerminal = (s: JobStatus) => s === 'done' || s === 'failed' || s === 'canceled';
const TERMINAL_EVENTS = ['content_job.done', 'content_job.failed', 'content_job.canceled'] as const satisfies readonly LiveEventType[];

/** What an SSE event's `data` holds: the stored payload plus its event id and time. */
export type LiveEventData = JobEventPayload & { eventId: string; createdAt: string };
export interface LiveEvent {
  type: LiveEventType;
  data: LiveEventData;
}
export interface CompanySnapshot {
  companyId: string;
  activeJobs: JobView[];
}

export interface JobFilters {
  status?: JobStatus;
  kind?: string;
  sourceTaskId?: string;
}

const company = (companyId: string) => `/api/companies/${encodeURIComponent(companyId)}`;

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const kilnApi = {
  companies: () => apiFetch<{ items: CompanyView[] }>('/api/companies'),
  renderers: () => apiFetch<{ items: RendererView[] }>('/api/renderers'),
  listJobs: (companyId: string, f: JobFilters & { limit?: number; cursor?: string }) =>
    apiFetch<Page<JobView>>(`${company(companyId)}/content-jobs${query({ ...f })}`),
  getJob: (companyId: string, jobId: string) => apiFetch<JobView>(`${company(companyId)}/content-jobs/${encodeURIComponent(jobId)}`),
  createJob: (companyId: string, body: { kind: string; input: unknown; sourceTaskId?: string; priority?: number }) =>
    apiFetch<CreateJobResponse>(`${company(companyId)}/content-jobs`, { method: 'POST', body }),
  cancelJob: (companyId: string, jobId: string) =>
    apiFetch<JobView>(`${company(companyId)}/content-jobs/${encodeURIComponent(jobId)}/cancel`, { method: 'POST' }),
  listAssets: (companyId: string, f: { sourceTaskId?: string; jobId?: string; limit?: number; cursor?: string }) =>
    apiFetch<Page<AssetView>>(`${company(companyId)}/assets${query({ ...f })}`),
};

/** Built here rather than taken from `AssetView.url`, which carries KILN_PUBLIC_URL's origin. */
export function assetContentUrl(asset: Pick<AssetView, 'companyId' | 'id'>, download = false): string {
  return `${company(asset.companyId)}/assets/${encodeURIComponent(asset.id)}/content${download ? '?download=1' : ''}`;
}

export interface StreamHandlers<S> {
  onSnapshot(snapshot: S): void;
  onEvent(event: LiveEvent): void;
  onState?(state: StreamState, error?: unknown): void;
}

/** Every job of the company, live; never ends on purpose (reconnects and resumes after drops). */
export function streamCompanyEvents(companyId: string, h: StreamHandlers<CompanySnapshot>): EventStream {
  return openEventStream(`${company(companyId)}/events`, {
    onMessage: (m) => (m.event === 'snapshot' ? h.onSnapshot(m.data as CompanySnapshot) : h.onEvent({ type: m.event as LiveEventType, data: m.data as LiveEventData })),
    onState: h.onState,
    reconnectAfterEnd: () => true,
  });
}

/** One job: a snapshot, its history, then live events until the terminal one. */
export function streamJobEvents(companyId: string, jobId: string, h: StreamHandlers<JobView>): EventStream {
  let ended = false;
  return openEventStream(`${company(companyId)}/content-jobs/${encodeURIComponent(jobId)}/events`, {
    onMessage: (m) => {
      if (m.event === 'snapshot') {
        const job = m.data as JobView;
        if (isTerminal(job.status)) ended = true;
        h.onSnapshot(job);
        return;
      }
      if ((TERMINAL_EVENTS as readonly string[]).includes(m.event)) ended = true;
      h.onEvent({ type: m.event as LiveEventType, data: m.data as LiveEventData });
    },
    onState: h.onState,
    reconnectAfterEnd: () => !ended,
  });
}

/** A job updated by one of its events, as far as the event tells. */
export function applyEvent(job: JobView, e: LiveEvent): JobView {
  const d = e.data;
  if (e.type === 'asset.created') return job;
  const next: JobView = { ...job, status: d.status, updatedAt: d.createdAt };
  if (typeof d.progress === 'number') next.progress = d.progress;
  if (d.stage !== undefined) next.stage = d.stage ?? null;
  if (typeof d.attempt === 'number') next.attempt = d.attempt;
  if (e.type === 'content_job.running' && !job.startedAt) next.startedAt = d.createdAt;
  if (isTerminal(d.status)) {
    next.finishedAt ??= d.createdAt;
    if (d.status === 'done') next.progress = 1;
  }
  if (d.error) next.error = d.error;
  return next;
}
