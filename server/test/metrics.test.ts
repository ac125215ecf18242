import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { claimQueuedJobs } from '../src/services/jobs/job-lifecycle.js';
import { connectSse } from './support/sse-client.js';
import { parsePrometheusText, type PromExposition } from './support/prometheus-text.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { isTerminal, startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/** Claims in these tests take any kind they find (a worker's claim names the kinds of its slot group). */
const ALL_KINDS = ['chart', 'image', 'video', 'test-fail', 'test-slow'];

async function scrape(url: string, headers: Record<string, string> = {}): Promise<PromExposition> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** Scrapes until `pred` holds: the gauges are read from the database at most once a second. */
async function scrapeUntil(url: string, pred: (m: PromExposition) => boolean, timeoutMs = 15_000): Promise<PromExposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await scrape(url);
    if (pred(m)) return m;
    if (Date.now() > deadline) throw new Error('metrics never reached the expected values');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(kiln: TestKiln, body: unknown, companyId = kiln.companyId): Promise<string> {
  const res = await kiln.api('POST', `/api/companies/${companyId}/content-jobs`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId;
}

describe('/metrics after real jobs (API and worker in one process)', () => {
  let kiln: TestKiln;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { rendererModules: [TEST_RENDERERS] });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await kiln?.cleanup();
    await receiver?.close();
  });

  it('counts created and finished jobs, pickups, renders and webhook outcomes as they happened', async () => {
    const slow = [
      await submit(kiln, { kind: 'test-slow', input: { ms: 50, steps: 1 }, webhookUrl: `${receiver.url}/hook/1` }),
      await submit(kiln, { kind: 'test-slow', input: { ms: 50, steps: 1 } }),
    ];
    const failing = await submit(kiln, { kind: 'test-fail', input: { code: 'render_failed', retryable: false } });
    // An idempotent replay is not a new job.
    const key = { 'idempotency-key': 'metrics-once' };
    const first = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'test-slow', input: { ms: 10, steps: 1 } }, key);
    const replay = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'test-slow', input: { ms: 10, steps: 1 } }, key);
    expect(replay.body.jobId).toBe(first.body.jobId);
    slow.push(first.body.jobId);

    for (const id of slow) expect((await waitForJob(kiln, id)).status).toBe('done');
    expect((await waitForJob(kiln, failing)).status).toBe('failed');
    await receiver.waitFor((r) => r.length === 1);

    const m = await scrapeUntil(kiln.url, (x) => x.value('kiln_webhook_deliveries_total', { outcome: 'delivered' }) === 1);
    expect(m.types.get('kiln_jobs_created_total')).toBe('counter');
    expect(m.types.get('kiln_job_pickup_seconds')).toBe('histogram');
    expect(m.types.get('kiln_jobs_queued')).toBe('gauge');

    expect(m.value('kiln_jobs_created_total', { kind: 'test-slow' })).toBe(3);
    expect(m.value('kiln_jobs_created_total', { kind: 'test-fail' })).toBe(1);
    expect(m.value('kiln_jobs_created_total', { kind: 'image' })).toBe(0);
    expect(m.value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'done' })).toBe(3);
    expect(m.value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'failed' })).toBe(0);
    expect(m.value('kiln_jobs_finished_total', { kind: 'test-fail', status: 'failed' })).toBe(1);
    expect(m.value('kiln_jobs_finished_total', { kind: 'test-fail', status: 'done' })).toBe(0);

    // One pickup per claim; one render per ended job, by kind; buckets are cumulative.
    expect(m.value('kiln_job_pickup_seconds_count')).toBe(4);
    expect(m.value('kiln_job_pickup_seconds_bucket', { le: '+Inf' })).toBe(4);
    expect(m.value('kiln_job_render_seconds_count', { kind: 'test-slow' })).toBe(3);
    expect(m.value('kiln_job_render_seconds_count', { kind: 'test-fail' })).toBe(1);
    expect(m.value('kiln_job_render_seconds_count', { kind: 'image' })).toBe(0);
    // test-slow sleeps 50 ms twice and 10 ms once: the render time includes at least that.
    expect(m.value('kiln_job_render_seconds_sum', { kind: 'test-slow' })).toBeGreaterThanOrEqual(0.11);
    const buckets = m.all('kiln_job_render_seconds_bucket').filter((s) => s.labels.kind === 'test-slow').map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    // Only the 10 ms job can have taken 50 ms or less.
    expect(m.value('kiln_job_render_seconds_bucket', { kind: 'test-slow', le: '0.05' })).toBeLessThanOrEqual(1);
    expect(m.value('kiln_job_render_seconds_bucket', { kind: 'test-slow', le: '+Inf' })).toBe(3);

    expect(m.value('kiln_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(m.value('kiln_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(m.value('kiln_jobs_queued', { kind: 'test-slow' })).toBe(0);
    expect(m.value('kiln_jobs_running', { kind: 'test-slow' })).toBe(0);
    // The default process metrics, from this Kiln's own registry.
    expect(m.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('counts a queued job canceled by the API as finished canceled', async () => {
    const before = (await scrape(kiln.url)).value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'canceled' })!;
    // Held back by a far run_at is not possible from the API, so cancel the moment it is queued;
    // a worker may have claimed it already, and then the worker ends it canceled: counted either way.
    const id = await submit(kiln, { kind: 'test-slow', input: { ms: 5000, steps: 50 } });
    await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs/${id}/cancel`);
    expect((await waitForJob(kiln, id, isTerminal)).status).toBe('canceled');
    const after = await scrapeUntil(kiln.url, (x) => x.value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'canceled' }) === before + 1);
    expect(after.value('kiln_jobs_created_total', { kind: 'test-slow' })).toBe(4);
  });

  it('shows open SSE streams as kiln_sse_clients', async () => {
    // Streams and waits of the tests before may take a moment to be let go of.
    await scrapeUntil(kiln.url, (x) => x.value('kiln_sse_clients') === 0);
    const sse = await connectSse(`${kiln.url}/api/companies/${kiln.companyId}/events`);
    await sse.waitFor((m) => m.event === 'snapshot');
    await scrapeUntil(kiln.url, (x) => x.value('kiln_sse_clients') === 1);
    sse.close();
    await scrapeUntil(kiln.url, (x) => x.value('kiln_sse_clients') === 0);
  });

  it('serves the company stats the dashboard shows, from the same numbers', async () => {
    const res = await kiln.api('GET', `/api/companies/${kiln.companyId}/stats`);
    expect(res.status).toBe(200);
    const slow = res.body.kinds.find((k: any) => k.kind === 'test-slow');
    const fail = res.body.kinds.find((k: any) => k.kind === 'test-fail');
    expect(slow).toMatchObject({ queued: 0, running: 0, finishedLastHour: 4 });
    expect(fail).toMatchObject({ queued: 0, running: 0, finishedLastMinute: 1, finishedLastHour: 1 });
    expect(res.body.totals.finishedLastHour).toBe(5);
  });
});

describe('/metrics gauges: queued and running jobs, read from the database', () => {
  let kiln: TestKiln;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
  });
  afterAll(async () => kiln?.cleanup());

  it('reflect queued jobs by kind, then a claimed one as running', async () => {
    for (let i = 0; i < 3; i++) await submit(kiln, { kind: 'test-slow', input: { ms: 10 } });
    await submit(kiln, { kind: 'test-fail', input: {} });
    const queued = await scrapeUntil(kiln.url, (m) => m.value('kiln_jobs_queued', { kind: 'test-slow' }) === 3);
    expect(queued.value('kiln_jobs_queued', { kind: 'test-fail' })).toBe(1);
    expect(queued.value('kiln_jobs_queued', { kind: 'image' })).toBe(0);
    expect(queued.value('kiln_jobs_running', { kind: 'test-slow' })).toBe(0);
    // No worker here: nothing was claimed, picked up or finished by this process.
    expect(queued.value('kiln_job_pickup_seconds_count')).toBe(0);
    expect(queued.value('kiln_jobs_created_total', { kind: 'test-slow' })).toBe(3);

    // A claim, as a worker makes it (by priority, then age: the first test-slow job).
    const claimed = await claimQueuedJobs(kiln.database.pool, 'w1@metrics-test:1', 1, ALL_KINDS);
    expect(claimed.map((j) => j.kind)).toEqual(['test-slow']);
    const running = await scrapeUntil(kiln.url, (m) => m.value('kiln_jobs_running', { kind: 'test-slow' }) === 1);
    expect(running.value('kiln_jobs_queued', { kind: 'test-slow' })).toBe(2);

    const stats = await kiln.api('GET', `/api/companies/${kiln.companyId}/stats`);
    expect(stats.body.totals).toMatchObject({ queued: 3, running: 1 });
    expect(stats.body.kinds.find((k: any) => k.kind === 'test-slow')).toMatchObject({ queued: 2, running: 1, finishedLastHour: 0 });
  });
});

describe('/metrics is per process: a worker-only process serves its own (KILN_METRICS_PORT)', () => {
  it('counts creation in the API process and the render in the worker process', async () => {
    const api = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
    let worker: TestKiln | null = null;
    try {
      const id = await submit(api, { kind: 'test-slow', input: { ms: 20, steps: 1 } });
      worker = await startTestKiln({ KILN_METRICS_PORT: '0' }, { api: false, databaseUrl: api.databaseUrl, dataDir: api.dataDir, rendererModules: [TEST_RENDERERS] });
      expect((await waitForJob(api, id)).status).toBe('done');
      expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const fromApi = await scrape(api.url);
      const fromWorker = await scrape(worker.metricsUrl!);
      expect(fromApi.value('kiln_jobs_created_total', { kind: 'test-slow' })).toBe(1);
      expect(fromApi.value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'done' })).toBe(0);
      expect(fromWorker.value('kiln_jobs_created_total', { kind: 'test-slow' })).toBe(0);
      expect(fromWorker.value('kiln_jobs_finished_total', { kind: 'test-slow', status: 'done' })).toBe(1);
      expect(fromWorker.value('kiln_job_pickup_seconds_count')).toBe(1);
      expect(fromWorker.value('kiln_job_render_seconds_count', { kind: 'test-slow' })).toBe(1);
      expect(fromWorker.value('kiln_sse_clients')).toBe(0);
      // The worker's listener serves /metrics only.
      expect((await fetch(`${worker.metricsUrl}/api/health`)).status).toBe(404);
    } finally {
      await worker?.cleanup();
      await api.cleanup();
    }
  });
});

describe('/metrics in authenticated mode', () => {
  it('needs an admin key: 401 without one, 403 with a company key, 200 with an admin key', async () => {
    const kiln = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated' }, { worker: false });
    try {
      const keys = apiKeyService(kiln.database.pool);
      const acme = (await companyService(kiln.database.pool).create({ name: 'Acme' })).id;
      const admin = (await keys.create({ companyId: null, name: 'admin' })).key;
      const company = (await keys.create({ companyId: acme, name: 'acme' })).key;
      const none = await fetch(`${kiln.url}/metrics`);
      expect(none.status).toBe(401);
      expect((await none.json()).error.code).toBe('unauthorized');
      const asCompany = await fetch(`${kiln.url}/metrics`, { headers: { authorization: `Bearer ${company}` } });
      expect(asCompany.status).toBe(403);
      expect((await asCompany.json()).error.code).toBe('forbidden');
      const m = await scrape(kiln.url, { authorization: `Bearer ${admin}` });
      expect(m.value('kiln_jobs_created_total', { kind: 'image' })).toBe(0);
      // The company's own stats need its key, like every company route.
      expect((await fetch(`${kiln.url}/api/companies/${acme}/stats`)).status).toBe(401);
      expect((await fetch(`${kiln.url}/api/companies/${acme}/stats`, { headers: { authorization: `Bearer ${company}` } })).status).toBe(200);
    } finally {
      await kiln.cleanup();
    }
  });

  it('is keyless with KILN_METRICS_PUBLIC=true (and documented as public then)', async () => {
    const kiln = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_METRICS_PUBLIC: 'true' }, { worker: false });
    try {
      const m = await scrape(kiln.url);
      expect(m.value('kiln_jobs_queued', { kind: 'image' })).toBe(0);
      const doc = (await kiln.api('GET', '/api/openapi.json')).body;
      expect(doc.paths['/metrics'].get.security).toEqual([]);
      expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
    } finally {
      await kiln.cleanup();
    }
  });
});
