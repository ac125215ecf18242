import type { Queryable } from '../jobs/job-row.js';
import { findJob } from '../jobs/job-store.js';
import { toJobView } from '../jobs/job-view.js';
import { listAssetsOfJobs } from '../assets/asset-store.js';
import { retryDelayMs } from '../jobs/backoff.js';
import { claimDueDeliveries, markAttemptFailed, markDelivered, type DueDelivery } from './webhook-store.js';

export const WEBHOOK_MAX_ATTEMPTS = 5;
const SEND_TIMEOUT_MS = 10_000;

export interface WebhookDispatcherOptions {
  pool: Queryable;
  baseUrl?: string;
  intervalMs?: number;
  log: { warn(obj: Record<string, unknown>, msg: string): void };
}

/**
 * Sends the webhook outbox: for each due delivery, POSTs `{ type, eventId, job }` (the job as the
 * API shows it, with its assets) to the job's webhook URL. A 2xx ends it; anything else is retried
 * with backoff (1 s, 2 s, 4 s, 8 s) and given up after five attempts, recorded on the row.
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions) {
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let stopped = false;

  async function send(d: DueDelivery): Promise<void> {
    const job = await findJob(opts.pool, d.companyId, d.jobId);
    if (!job) return markAttemptFailed(opts.pool, d.id, { statusCode: null, error: 'job no longer exists', retryInMs: null });
    const view = toJobView(job, await listAssetsOfJobs(opts.pool, d.companyId, [d.jobId]), opts.baseUrl);
    let statusCode: number | null = null;
    let error = '';
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'kiln-webhooks',
          'kiln-event-id': d.eventId,
          'kiln-delivery-attempt': String(d.attempt),
        },
        body: JSON.stringify({ type: d.type, eventId: d.eventId, job: view }),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        redirect: 'manual',
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return markDelivered(opts.pool, d.id, res.status);
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    const retryInMs = d.attempt < WEBHOOK_MAX_ATTEMPTS ? retryDelayMs(d.attempt) : null;
    opts.log.warn({ jobId: d.jobId, url: d.url, attempt: d.attempt, error, retryInMs }, 'webhook delivery failed');
    await markAttemptFailed(opts.pool, d.id, { statusCode, error, retryInMs });
  }

  async function tick() {
    if (running || stopped) return;
    running = true;
    try {
      for (;;) {
        const due = await claimDueDeliveries(opts.pool, 10);
        await Promise.all(due.map((d) => send(d).catch((err) => opts.log.warn({ err: String(err) }, 'webhook send failed'))));
        if (due.length < 10) break;
      }
    } catch (err) {
      opts.log.warn({ err: String(err) }, 'webhook dispatch failed');
    } finally {
      running = false;
    }
  }

  return {
    tick,
    start() {
      timer = setInterval(() => void tick(), opts.intervalMs ?? 1000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
