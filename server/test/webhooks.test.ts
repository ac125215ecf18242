import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
let receiver: http.Server;
let receiverUrl: string;
const received: { path: string; headers: http.IncomingHttpHeaders; body: any }[] = [];
let failuresLeft = 0;

beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
  // A real HTTP endpoint on loopback that records what it gets, and can fail on purpose.
  receiver = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: JSON.parse(data) });
      if (req.url!.startsWith('/flaky') && failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(503).end();
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await kiln?.cleanup();
  await new Promise((r) => receiver?.close(r));
});

async function waitUntil(pred: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const submit = async (body: Record<string, unknown>) => {
  const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId as string;
};

describe('webhooks', () => {
  it('POSTs the finished job (with its assets) to webhookUrl once', async () => {
    const jobId = await submit({ kind: 'test-bytes', input: { bytes: 10 }, webhookUrl: `${receiverUrl}/hook` });
    await waitForJob(kiln, jobId);
    await waitUntil(() => received.some((r) => r.body.job.id === jobId));
    const mine = received.filter((r) => r.body.job.id === jobId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.body).toMatchObject({ type: 'content_job.done', job: { id: jobId, status: 'done' } });
    expect(mine[0]!.body.job.assets).toHaveLength(1);
    expect(mine[0]!.headers['kiln-event-id']).toBe(mine[0]!.body.eventId);
  });

  it('announces failures and cancellations too', async () => {
    const failed = await submit({ kind: 'test-fail', input: {}, webhookUrl: `${receiverUrl}/hook` });
    const canceled = await submit({ kind: 'test-slow', input: { ms: 60_000, steps: 60 }, webhookUrl: `${receiverUrl}/hook` });
    await waitForJob(kiln, canceled, (j) => j.status === 'running');
    await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs/${canceled}/cancel`);
    await waitUntil(() => received.some((r) => r.body.job.id === failed) && received.some((r) => r.body.job.id === canceled));
    expect(received.find((r) => r.body.job.id === failed)!.body).toMatchObject({ type: 'content_job.failed', job: { error: { code: 'render_failed' } } });
    expect(received.find((r) => r.body.job.id === canceled)!.body.type).toBe('content_job.canceled');
  });

  it('retries a failing endpoint with backoff and records the outcome', async () => {
    failuresLeft = 2;
    const jobId = await submit({ kind: 'test-bytes', input: { bytes: 10 }, webhookUrl: `${receiverUrl}/flaky` });
    await waitUntil(() => received.filter((r) => r.body.job.id === jobId).length === 3, 30_000);
    const attempts = received.filter((r) => r.body.job.id === jobId).map((r) => r.headers['kiln-delivery-attempt']);
    expect(attempts).toEqual(['1', '2', '3']);
    const deliveries = () =>
      kiln.database.pool.query('SELECT attempt, status_code, delivered_at FROM webhook_deliveries WHERE job_id = $1', [jobId]);
    let rows = (await deliveries()).rows;
    for (let i = 0; i < 100 && !rows[0]?.delivered_at; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = (await deliveries()).rows;
    }
    expect(rows).toHaveLength(1);
    expect(rows[0].delivered_at).not.toBeNull();
    expect(rows[0]).toMatchObject({ attempt: 3, status_code: 204 });
  });

  it('refuses non-http webhook URLs with 400', async () => {
    const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
      kind: 'test-bytes',
      input: { bytes: 1 },
      webhookUrl: 'file:///etc/passwd',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toEqual(['webhookUrl']);
  });
});
