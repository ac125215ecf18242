import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTerminalStatus } from '@kiln/shared';
import { validationFailed } from '../errors.js';
import { openSseStream, type SseStream } from '../http/sse-stream.js';
import { followQueuePosition, type QueuePositionFollower } from '../services/events/queue-position-follower.js';
import { streamEvents, type EventStreamOptions } from '../services/events/event-stream.js';
import { listJobs } from '../services/jobs/job-store.js';
import type { AppDeps } from '../app-deps.js';
import { companyFromRequest } from './company-scope.js';

/** An SSE event id: a `content_job_events` row id (the OpenAPI document publishes the same pattern). */
export const EVENT_ID = /^\d{1,18}$/;

/** `Last-Event-ID` (what EventSource sends on reconnect) wins over `?since=`. */
function resumePoint(request: FastifyRequest): string | null {
  const header = request.headers['last-event-id'];
  const raw = (typeof header === 'string' && header.trim()) || (request.query as { since?: string }).since;
  if (raw === undefined || raw === '') return null;
  if (!EVENT_ID.test(String(raw))) {
    throw validationFailed([{ path: ['Last-Event-ID'], message: 'An event id is a positive integer.' }]);
  }
  return String(raw);
}

export function eventsRoutes(deps: AppDeps) {
  /** Opens the SSE response and runs snapshot → replay → live on it (see streamEvents). */
  async function serveStream(
    request: FastifyRequest,
    reply: FastifyReply,
    stream: Pick<EventStreamOptions, 'companyId' | 'jobId' | 'start' | 'snapshot'>,
    follow?: (sse: SseStream) => QueuePositionFollower,
  ) {
    const opened = openSseStream(request, reply, { keepAliveMs: deps.config.sseKeepAliveMs });
    const follower = follow?.(opened);
    await streamEvents({ hub: deps.hub, pool: deps.database.pool, sse: follower?.sse ?? opened, ...stream }).then(
      () => follower?.begin(),
      (err) => request.log.error({ err }, 'event stream failed'),
    );
  }

  return async (app: FastifyInstance) => {
    app.get('/api/companies/:companyId/content-jobs/:jobId/events', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { jobId } = request.params as { jobId: string };
      const since = resumePoint(request);
      await deps.jobs.requireJob(companyId, jobId); // 404 as JSON, before the stream opens
      await serveStream(request, reply, {
        companyId,
        jobId,
        // A job's stream replays the whole job unless resumed (`since=0` means the same).
        start: since === null || since === '0' ? { from: 'beginning' } : { from: 'after', eventId: since },
        snapshot: async () => {
          const job = await deps.jobs.get(companyId, jobId);
          return { data: job, terminal: isTerminalStatus(job.status) };
        },
      }, (sse) => followQueuePosition({ sse, jobId, follow: deps.jobs.followQueueEstimate }));
    });

    app.get('/api/companies/:companyId/events', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      await serveStream(request, reply, {
        companyId,
        start: ((since) => (since === null ? { from: 'now' } : since === '0' ? { from: 'beginning' } : { from: 'after', eventId: since }))(
          resumePoint(request),
        ),
        snapshot: async () => {
          const [queued, running] = await Promise.all(
            (['queued', 'running'] as const).map((status) => listJobs(deps.database.pool, companyId, { status, limit: 200 })),
          );
          const active = [...running!, ...queued!].map((j) => deps.jobs.toView(j, []));
          return { data: { companyId, activeJobs: active }, terminal: false };
        },
      });
    });
  };
}
