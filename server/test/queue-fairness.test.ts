import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds({ KILN_WORKER_CONCURRENCY: '3' });
});
afterAll(async () => kiln?.cleanup());

async function submit(companyId: string, input: unknown, extra: Record<string, unknown> = {}) {
  const res = await kiln.api('POST', `/api/companies/${companyId}/content-jobs`, { kind: 'test-slow', input, ...extra });
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

async function eventsOf(companyId: string) {
  const { rows } = await kiln.database.pool.query(
    `SELECT job_id AS "jobId", type FROM content_job_events WHERE company_id = $1 AND type IN ('content_job.running', 'content_job.done') ORDER BY id`,
    [companyId],
  );
  return rows as { jobId: string; type: string }[];
}

const waitAll = (companyId: string, ids: string[]) =>
  Promise.all(ids.map((id) => waitForJobOf(companyId, id)));

async function waitForJobOf(companyId: string, jobId: string) {
  for (;;) {
    const { body } = await kiln.api('GET', `/api/companies/${companyId}/content-jobs/${jobId}`);
    if (['done', 'failed', 'canceled'].includes(body.status)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('claiming', () => {
  it('never runs more of a company’s jobs at once than its max_concurrent_jobs', async () => {
    const limited = (await kiln.api('POST', '/api/companies', { name: 'One at a time', maxConcurrentJobs: 1 })).body.id;
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(limited, { ms: 150, steps: 1 }));
    await waitAll(limited, ids);
    let runningNow = 0;
    let peak = 0;
    for (const e of await eventsOf(limited)) {
      runningNow += e.type === 'content_job.running' ? 1 : -1;
      peak = Math.max(peak, runningNow);
    }
    expect(peak).toBe(1);
  });

  it('while one company is at its limit, another company’s jobs still run', async () => {
    const busy = (await kiln.api('POST', '/api/companies', { name: 'Busy', maxConcurrentJobs: 1 })).body.id;
    const other = (await kiln.api('POST', '/api/companies', { name: 'Other' })).body.id;
    const long = await submit(busy, { ms: 60_000, steps: 60 });
    const waiting = await submit(busy, { ms: 10, steps: 1 });
    const quick = await submit(other, { ms: 10, steps: 1 });
    expect((await waitForJobOf(other, quick)).status).toBe('done');
    const { body } = await kiln.api('GET', `/api/companies/${busy}/content-jobs/${waiting}`);
    expect(body.status).toBe('queued');
    await kiln.api('POST', `/api/companies/${busy}/content-jobs/${long}/cancel`);
    expect((await waitForJobOf(busy, waiting)).status).toBe('done');
  });

  it('runs higher priority first', async () => {
    const company = (await kiln.api('POST', '/api/companies', { name: 'Prioritised', maxConcurrentJobs: 1 })).body.id;
    const blocker = await submit(company, { ms: 400, steps: 1 });
    await waitForJobOf(company, blocker).catch(() => undefined);
    const gate = await submit(company, { ms: 600, steps: 1 });
    // Wait until the gate runs, then queue low before high.
    for (;;) {
      const { body } = await kiln.api('GET', `/api/companies/${company}/content-jobs/${gate}`);
      if (body.status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const low = await submit(company, { ms: 10, steps: 1 }, { priority: -5 });
    const high = await submit(company, { ms: 10, steps: 1 }, { priority: 10 });
    await waitAll(company, [gate, low, high]);
    const order = (await eventsOf(company)).filter((e) => e.type === 'content_job.running').map((e) => e.jobId);
    expect(order.indexOf(high)).toBeLessThan(order.indexOf(low));
  });
});

describe('self-healing', () => {
  it('a job recorded as running on this live worker, but run by nothing, is released and then completed', async () => {
    const company = (await kiln.api('POST', '/api/companies', { name: 'Orphans' })).body.id;
    // A live worker's running rows are invisible to the reaper; forge the state a runner that
    // died without a transition would leave behind.
    const { rows } = await kiln.database.pool.query(
      `INSERT INTO content_jobs (company_id, kind, input, status, attempt, locked_by, heartbeat_at, started_at, timeout_ms)
       VALUES ($1, 'test-slow', '{"ms":0,"steps":1}', 'running', 1, $2, now(), now(), 60000) RETURNING id`,
      [company, kiln.worker!.id],
    );
    const job = await waitForJobOf(company, rows[0].id);
    expect(job).toMatchObject({ status: 'done', attempt: 2 });
  });
});
