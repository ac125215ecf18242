import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isTerminalStatus, TERMINAL_STATUSES } from '@kiln/shared';
import { cachedRead } from '../../db/cached-read.js';
import type { Queryable } from '../jobs/job-row.js';
import { countActiveJobsByKind, type ActiveCount } from '../jobs/queue-stats-store.js';
import type { WorkerObserver, WebhookOutcome } from '../../worker/worker-observer.js';

/** What the job service counts: jobs created, and queued jobs it canceled (they never reach a worker). */
export interface JobCounters {
  jobCreated(kind: string): void;
  jobFinished(kind: string, status: 'done' | 'failed' | 'canceled'): void;
}

export interface KilnMetrics extends JobCounters, WorkerObserver {
  /** `text/plain; version=0.0.4; charset=utf-8` */
  readonly contentType: string;
  /** The Prometheus text exposition of every metric, gauges read now (or up to a second ago). */
  render(): Promise<string>;
  /** Where `kiln_sse_clients` is read from (the API's event hub; absent in a worker-only process). */
  countSseClients(count: () => number): void;
}

const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = ['delivered', 'retrying', 'failed'];
/** The gauges read the database at most this often, however often Prometheus (or several) scrape. */
const QUEUE_DEPTH_CACHE_MS = 1000;

/**
 * Kiln's Prometheus metrics, in a registry of their own (no module-level default registry: two
 * Kilns in one process — the tests run several — each count their own). Counters and histograms
 * count what *this process* did: the jobs its API created, the jobs its worker claimed and ended,
 * the webhooks its worker sent. The queue gauges are read from the database at scrape time, so
 * every process reports the same, whole-installation numbers.
 */
export function createKilnMetrics(deps: { pool: Queryable; kinds: readonly string[] }): KilnMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const kinds = [...deps.kinds];

  const created = new Counter({ name: 'kiln_jobs_created_total', help: 'Jobs queued through this process.', labelNames: ['kind'], registers: [registry] });
  const finished = new Counter({
    name: 'kiln_jobs_finished_total',
    help: 'Jobs this process ended: its worker settled them done, failed or canceled, or its API canceled them while queued.',
    labelNames: ['kind', 'status'],
    registers: [registry],
  });
  const pickup = new Histogram({
    name: 'kiln_job_pickup_seconds',
    help: 'How long a due job waited: claim time minus run_at, for every claim this process made.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const render = new Histogram({
    name: 'kiln_job_render_seconds',
    help: 'From claim (running) to the terminal state, for the attempts this process ended.',
    labelNames: ['kind'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'kiln_webhook_deliveries_total',
    help: 'Webhook delivery attempts this process made, by outcome: delivered (2xx), retrying (failed, will be tried again), failed (given up).',
    labelNames: ['outcome'],
    registers: [registry],
  });

  const readActive = cachedRead(() => countActiveJobsByKind(deps.pool), QUEUE_DEPTH_CACHE_MS);
  /** Sets a gauge from the active counts: 0 for every known kind, so a drained kind shows 0, not a stale value. */
  const fill = async (gauge: Gauge<'kind'>, status: ActiveCount['status']) => {
    let rows: ActiveCount[];
    try {
      rows = await readActive();
    } catch {
      // The database is away: no sample at all rather than an old one (the process metrics still answer).
      gauge.reset();
      return;
    }
    for (const kind of kinds) gauge.set({ kind }, 0);
    for (const r of rows) if (r.status === status) gauge.set({ kind: r.kind }, r.n);
  };
  new Gauge({
    name: 'kiln_jobs_queued',
    help: 'Jobs queued now, every company (read from the database at scrape time).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      return fill(this, 'queued');
    },
  });
  new Gauge({
    name: 'kiln_jobs_running',
    help: 'Jobs running now, every company (read from the database at scrape time).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      return fill(this, 'running');
    },
  });
  let sseClients: (() => number) | null = null;
  new Gauge({
    name: 'kiln_sse_clients',
    help: 'Event hub subscribers of this process: open SSE streams, and requests waiting for a job to end.',
    registers: [registry],
    collect() {
      this.set(sseClients ? sseClients() : 0);
    },
  });

  // Known label values start at 0, so rate() and increase() work from the first scrape.
  for (const kind of kinds) {
    created.inc({ kind }, 0);
    render.zero({ kind });
    for (const status of TERMINAL_STATUSES) finished.inc({ kind, status }, 0);
  }
  for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ outcome }, 0);


  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    countSseClients(count) {
      sseClients = count;
    },
    jobCreated: (kind) => created.inc({ kind }),
    jobFinished: (kind, status) => finished.inc({ kind, status }),
    jobClaimed(job) {
      // Both times are the database's (run_at, and heartbeat_at set by the claim): no clock skew.
      const waited = ((job.heartbeatAt ?? new Date()).getTime() - job.runAt.getTime()) / 1000;
      pickup.observe(Math.max(0, waited));
    },
    jobEnded(job, status, renderSeconds) {
      // A retry (back to queued) is not an end; its next attempt is measured on its own.
      if (!isTerminalStatus(status)) return;
      finished.inc({ kind: job.kind, status });
      render.observe({ kind: job.kind }, renderSeconds);
    },
    webhookDelivery: (outcome) => webhooks.inc({ outcome }),
  };
}
