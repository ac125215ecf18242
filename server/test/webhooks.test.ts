import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { isTerminal, startTestKiln, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Webhooks in local_trusted mode (private addresses allowed, so receivers live on loopback):
 * signatures checked with the standardwebhooks package's own verifier, rotation, redirects and
 * oversized answers, fairness between companies, and the delivery ledger.
 */
let kiln: TestKiln;
let receiver: WebhookReceiver;
/** A company created through the API, with the secret that answer showed. */
let company: { id: string; webhookSecret: string };

beforeAll(async () => {
  kiln = await startTestKiln({}, {
    rendererModules: [TEST_RENDERERS],
    // A small pool makes the per-company limit matter: a company may take 2 of 3 send slots.
    webhooks: { concurrency: 3, perCompanyInFlight: 2 },
  });
  receiver = await startWebhookReceiver();
  const created = await kiln.api('POST', '/api/companies', { name: 'Webhook Co' });
  expect(created.status).toBe(201);
  company = created.body;
});
afterAll(async () => {
  await kiln?.cleanup();
  await receiver?.close();
});

async function createCompany(name: string): Promise<{ id: string; webhookSecret: string }> {
  const res = await kiln.api('POST', '/api/companies', { name });
  expect(res.status).toBe(201);
  return res.body;
}

async function submit(companyId: string, body: Record<string, unknown>): Promise<string> {
  const res = await kiln.api('POST', `/api/companies/${companyId}/content-jobs`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId as string;
}

/** Polls the job (of any company; test-kiln's waitForJob knows the default one only). */
async function waitForJob(companyId: string, jobId: string, until: (job: any) => boolean = isTerminal, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await kiln.api('GET', `/api/companies/${companyId}/content-jobs/${jobId}`);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const jobHook = (companyId: string, path: string) => submit(companyId, { kind: 'test-bytes', input: { bytes: 10 }, webhookUrl: `${receiver.url}${path}` });
const forJob = (jobId: string) => (r: ReceivedWebhook[]) => r.filter((x) => x.body?.job?.id === jobId);
const ledger = async (companyId: string, jobId: string) => {
  const res = await kiln.api('GET', `/api/companies/${companyId}/content-jobs/${jobId}/webhook-deliveries`);
  expect(res.status).toBe(200);
  return res.body.items as any[];
};

async function waitForLedger(companyId: string, jobId: string, pred: (items: any[]) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await ledger(companyId, jobId);
    if (pred(items)) return items;
    if (Date.now() > deadline) throw new Error(`ledger of ${jobId} not as expected: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('signed deliveries', () => {
  it('shows the webhook secret once, in the create answer only', async () => {
    expect(company.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(company.webhookSecret.slice(6), 'base64')).toHaveLength(32);
    const one = await kiln.api('GET', `/api/companies/${company.id}`);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('webhookSecret');
    const list = await kiln.api('GET', '/api/companies');
    expect(list.body.items.find((c: any) => c.id === company.id)).toBeDefined();
    for (const c of list.body.items) expect(JSON.stringify(c)).not.toMatch(/whsec_/);
    expect((await createCompany('Other Co')).webhookSecret).not.toBe(company.webhookSecret);
  });

  it('POSTs the finished job with Standard Webhooks headers that Webhook.verify accepts', async () => {
    const jobId = await jobHook(company.id, '/hook');
    await waitForJob(company.id, jobId);
    await receiver.waitFor((r) => forJob(jobId)(r).length > 0);
    const [got, ...more] = forJob(jobId)(receiver.received);
    expect(more).toHaveLength(0);
    expect(got!.body).toMatchObject({ type: 'content_job.done', job: { id: jobId, status: 'done', companyId: company.id } });
    expect(got!.body.job.assets).toHaveLength(1);
    expect(got!.headers).toMatchObject({
      'kiln-event-id': got!.body.eventId,
      'kiln-delivery-attempt': '1',
      'webhook-id': `evt_${got!.body.eventId}`,
      'content-type': 'application/json',
    });
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(new Webhook(company.webhookSecret).verify(got!.raw, got!.headers as Record<string, string>)).toEqual(got!.body);
    // Another company's secret does not verify it, nor does a changed body.
    const other = await createCompany('Not the sender');
    expect(() => new Webhook(other.webhookSecret).verify(got!.raw, got!.headers as Record<string, string>)).toThrow(/No matching signature/);
    expect(() => new Webhook(company.webhookSecret).verify(got!.raw.replace('"done"', '"failed"'), got!.headers as Record<string, string>)).toThrow();
  });

  it('announces failures and cancellations too', async () => {
    const failed = await submit(company.id, { kind: 'test-fail', input: {}, webhookUrl: `${receiver.url}/hook` });
    const canceled = await submit(company.id, { kind: 'test-slow', input: { ms: 60_000, steps: 60 }, webhookUrl: `${receiver.url}/hook` });
    await waitForJob(company.id, canceled, (j) => j.status === 'running');
    await kiln.api('POST', `/api/companies/${company.id}/content-jobs/${canceled}/cancel`);
    await receiver.waitFor((r) => forJob(failed)(r).length > 0 && forJob(canceled)(r).length > 0);
    expect(forJob(failed)(receiver.received)[0]!.body).toMatchObject({ type: 'content_job.failed', job: { error: { code: 'render_failed' } } });
    expect(forJob(canceled)(receiver.received)[0]!.body.type).toBe('content_job.canceled');
  });

  it('retries a failing endpoint with backoff, under the same webhook-id, and records the outcome', async () => {
    receiver.failNext(2);
    const jobId = await jobHook(company.id, '/flaky');
    await receiver.waitFor((r) => forJob(jobId)(r).length === 3, 30_000);
    const attempts = forJob(jobId)(receiver.received);
    expect(attempts.map((r) => r.headers['kiln-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(attempts.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const a of attempts) expect(() => new Webhook(company.webhookSecret).verify(a.raw, a.headers as Record<string, string>)).not.toThrow();
    const [row] = await waitForLedger(company.id, jobId, (items) => items[0]?.state === 'delivered');
    expect(row).toMatchObject({ attempt: 3, statusCode: 204, error: null, failedAt: null, nextAttemptAt: null, url: `${receiver.url}/flaky` });
  });

  it('refuses non-http webhook URLs with 400', async () => {
    const res = await kiln.api('POST', `/api/companies/${company.id}/content-jobs`, { kind: 'test-bytes', input: { bytes: 1 }, webhookUrl: 'file:///etc/passwd' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toEqual(['webhookUrl']);
  });
});

describe('secret rotation', () => {
  it('signs with the new and the previous secret for 24 h, then with the new one only', async () => {
    const c = await createCompany('Rotating Co');
    const rotated = await kiln.api('POST', `/api/companies/${c.id}/webhook-secret/rotate`);
    expect(rotated.status).toBe(200);
    const { webhookSecret: fresh, rotatedAt, previousSecretExpiresAt } = rotated.body;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(c.webhookSecret);
    expect(Date.parse(previousSecretExpiresAt) - Date.parse(rotatedAt)).toBe(24 * 3600 * 1000);
    expect((await kiln.api('GET', `/api/companies/${c.id}`)).body).not.toHaveProperty('webhookSecret');

    const during = await jobHook(c.id, '/hook');
    await receiver.waitFor((r) => forJob(during)(r).length > 0);
    const a = forJob(during)(receiver.received)[0]!;
    expect((a.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(new Webhook(fresh).verify(a.raw, a.headers as Record<string, string>)).toEqual(a.body);
    expect(new Webhook(c.webhookSecret).verify(a.raw, a.headers as Record<string, string>)).toEqual(a.body);

    // The overlap ends 24 h after the rotation; move the rotation back instead of waiting.
    await kiln.database.pool.query(`UPDATE companies SET webhook_secret_rotated_at = now() - interval '24 hours 1 second' WHERE id = $1`, [c.id]);
    const after = await jobHook(c.id, '/hook');
    await receiver.waitFor((r) => forJob(after)(r).length > 0);
    const b = forJob(after)(receiver.received)[0]!;
    expect((b.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(new Webhook(fresh).verify(b.raw, b.headers as Record<string, string>)).toEqual(b.body);
    expect(() => new Webhook(c.webhookSecret).verify(b.raw, b.headers as Record<string, string>)).toThrow(/No matching signature/);
  });

  it('answers 404 for an unknown company', async () => {
    const res = await kiln.api('POST', '/api/companies/00000000-0000-4000-8000-000000000000/webhook-secret/rotate');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('company_not_found');
  });
});

describe('what a receiver answers', () => {
  it('a redirect is a failed attempt and its Location is never requested', async () => {
    const jobId = await jobHook(company.id, '/redirect');
    const [row] = await waitForLedger(company.id, jobId, (items) => items[0]?.attempt >= 1 && items[0]?.statusCode === 302);
    expect(row).toMatchObject({ deliveredAt: null, failedAt: null });
    expect(row.error).toMatch(/redirects are not followed/);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.some((r) => r.path === '/redirected')).toBe(false);
  });

  it('an endless 200 answer is cut at 64 KiB and the delivery counts as delivered', async () => {
    const started = Date.now();
    const jobId = await jobHook(company.id, '/endless');
    const [row] = await waitForLedger(company.id, jobId, (items) => ['delivered', 'failed'].includes(items[0]?.state));
    expect(row).toMatchObject({ state: 'delivered', statusCode: 200, attempt: 1 });
    console.log(`endless answer: submit → delivered in ${Date.now() - started} ms`);
  });
});

describe('fairness across companies', () => {
  it("one company's receiver that never answers does not delay another company's delivery", async () => {
    const slow = await createCompany('Slow receiver Co');
    const prompt = await createCompany('Prompt receiver Co');
    // Three dead deliveries for one company: it may hold 2 of the 3 send slots, never all.
    const dead = await Promise.all([1, 2, 3].map((i) => jobHook(slow.id, `/dead/${i}`)));
    await receiver.waitFor(() => receiver.hanging() === 2);

    const jobId = await jobHook(prompt.id, '/hook');
    const done = await waitForJob(prompt.id, jobId);
    await receiver.waitFor((r) => forJob(jobId)(r).length > 0, 8_000);
    const latencyMs = Date.now() - Date.parse(done.finishedAt);
    // Arrived while the slow company's requests were still hanging (their 10 s timeout not reached).
    expect(receiver.hanging()).toBe(2);
    const states = (await Promise.all(dead.map((id) => ledger(slow.id, id)))).map((items) => items[0]?.state);
    expect(states.sort()).toEqual(['pending', 'sending', 'sending']);
    expect(receiver.received.filter((r) => r.path.startsWith('/dead')).length).toBe(2);
    console.log(`fairness: the other company's delivery arrived ${latencyMs} ms after its job finished, while 2 sends hung`);

    receiver.revive();
    for (const id of dead) await waitForLedger(slow.id, id, (items) => items[0]?.state === 'delivered', 30_000);
  });
});

describe('delivery ledger and redelivery', () => {
  it('lists the deliveries of a job, and a redelivery of a delivered one is a new row with the same webhook-id', async () => {
    const jobId = await jobHook(company.id, '/hook');
    const [first] = await waitForLedger(company.id, jobId, (items) => items[0]?.state === 'delivered');
    expect(first).toMatchObject({ attempt: 1, statusCode: 204, error: null, url: `${receiver.url}/hook`, failedAt: null, nextAttemptAt: null });
    expect(Date.parse(first.deliveredAt)).not.toBeNaN();

    const res = await kiln.api('POST', `/api/companies/${company.id}/webhook-deliveries/${first.id}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body.id).not.toBe(first.id);
    expect(res.body.eventId).toBe(first.eventId);
    await receiver.waitFor((r) => forJob(jobId)(r).length === 2);
    const [a, b] = forJob(jobId)(receiver.received);
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.headers['kiln-delivery-attempt']).toBe('1');
    const items = await waitForLedger(company.id, jobId, (xs) => xs.length === 2 && xs.every((x) => x.state === 'delivered'));
    expect(items[0]).toEqual(first);
  });

  it('a given-up delivery gets a new attempt; a pending one is made due now instead of adding a row', async () => {
    receiver.failNext(1000);
    const jobId = await jobHook(company.id, '/flaky/given-up');
    const [row] = await waitForLedger(company.id, jobId, (items) => items[0]?.attempt >= 1 && items[0]?.state === 'pending');
    expect(row).toMatchObject({ statusCode: 503, error: 'HTTP 503' });

    // Pending (waiting for its retry): the same row, due now; no second row.
    const pending = await kiln.api('POST', `/api/companies/${company.id}/webhook-deliveries/${row.id}/redeliver`);
    expect(pending.status).toBe(202);
    expect(pending.body.id).toBe(row.id);
    if (pending.body.state === 'pending') expect(Date.parse(pending.body.nextAttemptAt)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await ledger(company.id, jobId)).toHaveLength(1);

    // Given up (as after the fifth failure): stays in the ledger; a new delivery carries the attempt.
    receiver.failNext(0);
    await kiln.database.pool.query(`UPDATE webhook_deliveries SET failed_at = now(), in_flight_until = NULL WHERE id = $1`, [row.id]);
    const again = await kiln.api('POST', `/api/companies/${company.id}/webhook-deliveries/${row.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(row.id);
    const items = await waitForLedger(company.id, jobId, (xs) => xs.length === 2 && xs[1].state === 'delivered');
    expect(items[0]).toMatchObject({ id: row.id, state: 'failed', deliveredAt: null });
    expect(Date.parse(items[0].failedAt)).not.toBeNaN();
  });

  it('answers 404 for unknown jobs and deliveries, and for a delivery of another company', async () => {
    const job404 = await kiln.api('GET', `/api/companies/${company.id}/content-jobs/00000000-0000-4000-8000-000000000000/webhook-deliveries`);
    expect(job404.status).toBe(404);
    expect(job404.body.error.code).toBe('job_not_found');
    for (const id of ['999999999', 'abc', '0', '1e3']) {
      const res = await kiln.api('POST', `/api/companies/${company.id}/webhook-deliveries/${id}/redeliver`);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('webhook_delivery_not_found');
    }
    const other = await createCompany('Ledger outsider');
    const { rows } = await kiln.database.pool.query(`SELECT id::text FROM webhook_deliveries WHERE company_id = $1 LIMIT 1`, [company.id]);
    const res = await kiln.api('POST', `/api/companies/${other.id}/webhook-deliveries/${rows[0].id}/redeliver`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('webhook_delivery_not_found');
  });

  it('a job without webhookUrl has an empty ledger', async () => {
    const jobId = await submit(company.id, { kind: 'test-bytes', input: { bytes: 1 } });
    await waitForJob(company.id, jobId);
    expect(await ledger(company.id, jobId)).toEqual([]);
  });
});
