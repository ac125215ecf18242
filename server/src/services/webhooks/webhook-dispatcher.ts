import type { Queryable } from '../jobs/job-row.js';
import { findJob } from '../jobs/job-store.js';
import { toJobView } from '../jobs/job-view.js';
import { listAssetsOfJobs } from '../assets/asset-store.js';
import { retryDelayMs } from '../jobs/backoff.js';
import { createOutboundGuard, OutboundRefusal, type HostResolver, type OutboundGuard } from './outbound-guard.js';
import type { AddressClass } from './ip-address-class.js';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POST_TIMEOUT_MS, postToVettedTarget } from './pinned-post.js';
import { signatureHeaders, WEBHOOK_SECRET_OVERLAP_MS, webhookMessageId } from './webhook-signature.js';
import { claimDueDeliveries, markAttemptFailed, markDelivered, releaseDelivery, type DueDelivery } from './webhook-store.js';
import type { WebhookOutcome } from '../../worker/worker-observer.js';

export const WEBHOOK_MAX_ATTEMPTS = 5;
/** Longer than a send can take (resolve + 10 s exchange), so a live worker's row is never re-claimed. */
const LEASE_SECONDS = 60;

/** What an operator or a test may tune; everything has a production default. */
export interface WebhookDispatchSettings {
  /** `KILN_WEBHOOK_ALLOW_PRIVATE`: deliver to loopback, private, link-local and CGNAT addresses. */
  allowPrivate?: boolean;
  /** Name resolution for the outbound guard (tests map names to loopback or forbidden addresses). */
  resolve?: HostResolver;
  classify?: (address: string) => AddressClass;
  /** Sends in flight at once in this process (default 16). */
  concurrency?: number;
  /** Sends in flight at once for one company, across processes (default 4). */
  perCompanyInFlight?: number;
  sendTimeoutMs?: number;
  maxResponseBytes?: number;
  secretOverlapMs?: number;
}

export interface WebhookDispatcherOptions extends WebhookDispatchSettings {
  pool: Queryable;
  baseUrl?: string;
  intervalMs?: number;
  log: { warn(obj: Record<string, unknown>, msg: string): void };
  /** Told each attempt's outcome once it is recorded (the process's metrics). */
  onOutcome?: (outcome: WebhookOutcome) => void;
}

/**
 * Sends the webhook outbox: each due delivery is POSTed as `{ type, eventId, job }` (the job as
 * the API shows it, with its assets), signed per Standard Webhooks with the company's secret, to
 * the job's URL as vetted by the outbound guard (again at every attempt: DNS may have changed
 * since submit). A 2xx ends it; anything else — including a 3xx, a refusal by the guard, a
 * timeout — is retried with backoff (1 s, 2 s, 4 s, 8 s) and given up after five attempts.
 *
 * Fairness: sends run in a pool (`concurrency`), claimed round-robin by company with at most
 * `perCompanyInFlight` each. The dispatcher never waits for a send before claiming the next due
 * rows: a freed slot or the interval triggers a claim, so a receiver that never answers holds
 * only its own company's slots, for at most the send timeout.
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions) {
  const concurrency = opts.concurrency ?? 16;
  const perCompanyInFlight = opts.perCompanyInFlight ?? 4;
  const guard: OutboundGuard = createOutboundGuard({ allowPrivate: opts.allowPrivate ?? false, resolve: opts.resolve, classify: opts.classify });
  const inFlight = new Map<string, AbortController>();
  let timer: NodeJS.Timeout | null = null;
  let claiming = false;
  let claimAgain = false;
  let stopped = false;

  async function send(d: DueDelivery, signal: AbortSignal): Promise<void> {
    const job = await findJob(opts.pool, d.companyId, d.jobId);
    if (!job) {
      await markAttemptFailed(opts.pool, d.id, { statusCode: null, error: 'job no longer exists', retryInMs: null });
      return opts.onOutcome?.('failed');
    }
    const view = toJobView(job, await listAssetsOfJobs(opts.pool, d.companyId, [d.jobId]), opts.baseUrl);
    const body = JSON.stringify({ type: d.type, eventId: d.eventId, job: view });
    let statusCode: number | null = null;
    let error: string;
    // One 10 s budget for the attempt: resolving the host, then the whole HTTP exchange.
    const deadline = Date.now() + (opts.sendTimeoutMs ?? DEFAULT_POST_TIMEOUT_MS);
    try {
      const target = await guard.vet(d.url);
      const secrets = d.previousSecret ? [d.secret, d.previousSecret] : [d.secret];
      const res = await postToVettedTarget(target, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'kiln-webhooks',
          'kiln-event-id': d.eventId,
          'kiln-delivery-attempt': String(d.attempt),
          ...signatureHeaders({ id: webhookMessageId(d.eventId), timestamp: new Date(), body, secrets }),
        },
        body: Buffer.from(body),
        timeoutMs: Math.max(1, deadline - Date.now()),
        maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        signal,
      });
      statusCode = res.statusCode;
      if (statusCode >= 200 && statusCode < 300) {
        await markDelivered(opts.pool, d.id, statusCode);
        return opts.onOutcome?.('delivered');
      }
      error = statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode}: redirects are not followed` : `HTTP ${statusCode}`;
    } catch (err) {
      if (signal.aborted) return releaseDelivery(opts.pool, d.id, 'interrupted: the worker stopped during the attempt');
      if (err instanceof OutboundRefusal) {
        error = `refused: ${err.message}`;
        opts.log.warn({ jobId: d.jobId, url: d.url, address: err.address, addressClass: err.addressClass }, 'webhook URL refused by the outbound guard');
      } else error = (err as Error).message;
    }
    const retryInMs = d.attempt < WEBHOOK_MAX_ATTEMPTS ? retryDelayMs(d.attempt) : null;
    opts.log.warn({ jobId: d.jobId, url: d.url, attempt: d.attempt, error, retryInMs }, 'webhook delivery failed');
    await markAttemptFailed(opts.pool, d.id, { statusCode, error, retryInMs });
    opts.onOutcome?.(retryInMs === null ? 'failed' : 'retrying');
  }

  function start(d: DueDelivery) {
    const controller = new AbortController();
    inFlight.set(d.id, controller);
    void send(d, controller.signal)
      .catch((err) => opts.log.warn({ deliveryId: d.id, err: String(err) }, 'webhook send failed'))
      .finally(() => {
        inFlight.delete(d.id);
        // A freed slot may be what a waiting company needs.
        void tick();
      });
  }

  /** Fills free send slots with due deliveries; returns as soon as they are started, not sent. */
  async function tick(): Promise<void> {
    if (stopped) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = true;
    try {
      do {
        claimAgain = false;
        const free = concurrency - inFlight.size;
        if (free <= 0) break;
        const due = await claimDueDeliveries(opts.pool, {
          limit: free,
          perCompanyInFlight,
          leaseSeconds: LEASE_SECONDS,
          secretOverlapSeconds: (opts.secretOverlapMs ?? WEBHOOK_SECRET_OVERLAP_MS) / 1000,
        });
        if (stopped) {
          // Claimed while stopping: hand them straight back.
          await Promise.all(due.map((d) => releaseDelivery(opts.pool, d.id, 'interrupted: the worker stopped')));
          break;
        }
        for (const d of due) start(d);
        if (due.length === free) claimAgain = true;
      } while (claimAgain && !stopped);
    } catch (err) {
      opts.log.warn({ err: String(err) }, 'webhook dispatch failed');
    } finally {
      claiming = false;
    }
  }

  return {
    tick,
    /** Sends under way in this process. */
    inFlight: () => inFlight.size,
    start() {
      timer = setInterval(() => void tick(), opts.intervalMs ?? 1000);
      timer.unref();
    },
    /**
     * Stops claiming, gives sends under way `graceMs` to finish, then aborts the rest; an aborted
     * send's row is due again at once (another worker, or this one after a restart, resends it).
     */
    async stop(graceMs = 2000) {
      stopped = true;
      if (timer) clearInterval(timer);
      const deadline = Date.now() + graceMs;
      while (inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of inFlight.values()) c.abort();
      while (inFlight.size > 0 || claiming) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
