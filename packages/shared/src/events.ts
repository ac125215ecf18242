import type { JobStatus } from './job-status.js';

/** The event types written to `content_job_events` and streamed over SSE (the SSE `event:` field). */
export const LIVE_EVENT_TYPES = [
  'content_job.queued',
  'content_job.running',
  'content_job.progress',
  'content_job.retrying',
  'content_job.done',
  'content_job.failed',
  'content_job.canceled',
  'asset.created',
] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** Types after which a job's own stream closes. */
export const TERMINAL_EVENT_TYPES: readonly LiveEventType[] = [
  'content_job.done',
  'content_job.failed',
  'content_job.canceled',
];

export interface JobEventPayload {
  jobId: string;
  status: JobStatus;
  progress?: number;
  stage?: string | null;
  attempt?: number;
  assetIds?: string[];
  assetId?: string;
  role?: string;
  error?: { code: string; message: string };
  runAt?: string;
  [extra: string]: unknown;
}

/** One event as the API and SSE present it; `id` is the `content_job_events` row id. */
export interface JobEvent {
  id: string;
  companyId: string;
  jobId: string;
  type: LiveEventType;
  payload: JobEventPayload;
  createdAt: string;
}

/**
 * A live-only event of a queued job's own stream, sent when its queue position changes (at most
 * once a second). It is never stored in content_job_events and carries no SSE `id:`, so it is
 * never replayed and does not move a client's Last-Event-ID.
 */
export const QUEUE_POSITION_EVENT = 'content_job.queue_position';
