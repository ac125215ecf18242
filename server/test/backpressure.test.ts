import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_QUEUED_JOBS } from '@kiln/shared';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { startTestKiln, svgOf, type TestKiln } from './support/test-kiln.js';

/**
 * What Kiln answers when asked for more than it gives: 429 `rate_limited` per API key, 429
 * `queue_full` per company, both with Retry-After and the JSON error body; and the API key's
 * `last_used_at`, which is written at most once a minute so that reads stay reads.
 */

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const jobBody = (fill = '#224466') => ({ kind: 'image', input: { svg: svgOf(fill) } });

/** A 429 as specified: the stable code, the JSON body, and Retry-After in whole seconds. */
function expectRetryLater(res: { status: number; body: any; headers: Headers }, code: 'rate_limited' | 'queue_full') {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
}

async function burst(kiln: TestKiln, n: number, path: string, headers: Record<string, string> = {}) {
  return Promise.all(Array.from({ length: n }, () => kiln.api('GET', path, undefined, headers)));
}

describe('rate limit (KILN_RATE_LIMIT_PER_SECOND)', () => {
  let kiln: TestKiln;
  let a: { id: string; key: string };
  let b: { id: string; key: string };

  beforeAll(async () => {
    kiln = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_RATE_LIMIT_PER_SECOND: '5' }, { worker: false });
    const companies = companyService(kiln.database.pool);
    const keys = apiKeyService(kiln.database.pool);
    const make = async (name: string) => {
      const id = (await companies.create({ name })).id;
      return { id, key: (await keys.create({ companyId: id, name })).key };
    };
    a = await make('Acme');
    b = await make('Globex');
  });
  afterAll(async () => kiln?.cleanup());

  it("limits a burst from one key with 429 rate_limited, while another key's requests in the same burst succeed", async () => {
    const pathA = `/api/companies/${a.id}/content-jobs`;
    const pathB = `/api/companies/${b.id}/content-jobs`;
    // B's five (the limit) ride in the middle of A's thirty: a limit per address would refuse them.
    const [fromA1, fromB, fromA2] = await Promise.all([
      burst(kiln, 15, pathA, as(a.key)),
      burst(kiln, 5, pathB, as(b.key)),
      burst(kiln, 15, pathA, as(a.key)),
    ]);
    const fromA = [...fromA1, ...fromA2];
    for (const res of [...fromA, ...fromB]) expect([200, 429], JSON.stringify(res.body)).toContain(res.status);
    const limited = fromA.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const res of limited) expectRetryLater(res, 'rate_limited');
    expect(fromB.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts requests without a key by address: a burst against a public route is limited too', async () => {
    const res = await burst(kiln, 30, '/api/health');
    for (const r of res) expect([200, 429]).toContain(r.status);
    const limited = res.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expectRetryLater(r, 'rate_limited');
  });

  it('0 turns it off', async () => {
    const off = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_RATE_LIMIT_PER_SECOND: '0' }, { worker: false });
    try {
      const id = (await companyService(off.database.pool).create({ name: 'Unlimited' })).id;
      const key = (await apiKeyService(off.database.pool).create({ companyId: id, name: 'k' })).key;
      const res = await burst(off, 40, `/api/companies/${id}/content-jobs`, as(key));
      expect(res.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    } finally {
      await off.cleanup();
    }
  });

  it('is off in local_trusted mode, whatever the setting', async () => {
    const local = await startTestKiln({ KILN_RATE_LIMIT_PER_SECOND: '5' }, { worker: false });
    try {
      const res = await burst(local, 40, `/api/companies/${local.companyId}/content-jobs`);
      expect(res.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    } finally {
      await local.cleanup();
    }
  });
});

describe('queue cap (max_queued_jobs) and API key last use', () => {
  // No worker: submitted jobs stay queued, so the queue only shrinks when a test cancels a job.
  let kiln: TestKiln;
  let adminKey: string;
  let other: { id: string; key: string };

  const countJobs = async (companyId: string, where = 'true', params: unknown[] = []) =>
    (await kiln.database.pool.query(`SELECT count(*)::int AS n FROM content_jobs WHERE company_id = $1 AND ${where}`, [companyId, ...params])).rows[0].n as number;
  const countEvents = async (companyId: string) =>
    (await kiln.database.pool.query(`SELECT count(*)::int AS n FROM content_job_events WHERE company_id = $1`, [companyId])).rows[0].n as number;
  const capOf = async (companyId: string) =>
    (await kiln.database.pool.query(`SELECT max_queued_jobs AS cap FROM companies WHERE id = $1`, [companyId])).rows[0].cap as number;

  /** A company made through the API (as admin) with its own key. */
  async function company(body: Record<string, unknown>) {
    const res = await kiln.api('POST', '/api/companies', body, as(adminKey));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id as string, body: res.body, key: (await apiKeyService(kiln.database.pool).create({ companyId: res.body.id, name: 'k' })).key };
  }

  beforeAll(async () => {
    kiln = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_RATE_LIMIT_PER_SECOND: '0' }, { worker: false });
    adminKey = (await apiKeyService(kiln.database.pool).create({ companyId: null, name: 'admin' })).key;
    other = await company({ name: 'Other' });
  });
  afterAll(async () => kiln?.cleanup());

  it(`defaults to ${DEFAULT_MAX_QUEUED_JOBS} and is set at creation`, async () => {
    const plain = await company({ name: 'Plain' });
    expect(plain.body.maxQueuedJobs).toBe(DEFAULT_MAX_QUEUED_JOBS);
    expect(await capOf(plain.id)).toBe(DEFAULT_MAX_QUEUED_JOBS);
    const capped = await company({ name: 'Capped', maxQueuedJobs: 7 });
    expect(capped.body.maxQueuedJobs).toBe(7);
    expect(await capOf(capped.id)).toBe(7);
    expect((await kiln.api('POST', '/api/companies', { name: 'Zero', maxQueuedJobs: 0 }, as(adminKey))).status).toBe(400);
  });

  it('past the cap a submit answers 429 queue_full and writes nothing; an idempotent replay still answers 202', async () => {
    const c = await company({ name: 'Small queue', maxQueuedJobs: 3 });
    const submit = (body: unknown, headers: Record<string, string> = {}) =>
      kiln.api('POST', `/api/companies/${c.id}/content-jobs`, body, { ...as(c.key), ...headers });

    const first = await submit(jobBody('#000001'), { 'idempotency-key': 'first' });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBe('false');
    for (const fill of ['#000002', '#000003']) expect((await submit(jobBody(fill))).status).toBe(202);
    expect(await countJobs(c.id)).toBe(3);
    const events = await countEvents(c.id);

    const fourth = await submit(jobBody('#000004'));
    expectRetryLater(fourth, 'queue_full');
    expect(fourth.body.error.details).toEqual({ maxQueuedJobs: 3 });
    const fresh = await submit(jobBody('#000005'), { 'idempotency-key': 'fresh' });
    expectRetryLater(fresh, 'queue_full');
    expect(await countJobs(c.id)).toBe(3);
    expect(await countJobs(c.id, `idempotency_key = $2`, ['fresh'])).toBe(0);
    expect(await countEvents(c.id)).toBe(events);

    // The accepted job asked for again: the same answer, not a refusal.
    const replay = await submit(jobBody('#000001'), { 'idempotency-key': 'first' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.jobId).toBe(first.body.jobId);
    expect(await countJobs(c.id)).toBe(3);

    // A canceled job no longer counts: its place is free.
    const cancel = await kiln.api('POST', `/api/companies/${c.id}/content-jobs/${first.body.jobId}/cancel`, undefined, as(c.key));
    expect(cancel.status).toBe(200);
    expect((await submit(jobBody('#000006'))).status).toBe(202);
    expectRetryLater(await submit(jobBody('#000007')), 'queue_full');
    expect(await countJobs(c.id, `status = 'queued'`)).toBe(3);
  });

  it('PATCH raises the cap (admin only; unknown fields refused) and lets the next submit in', async () => {
    const c = await company({ name: 'Raise me', maxQueuedJobs: 1 });
    const submit = () => kiln.api('POST', `/api/companies/${c.id}/content-jobs`, jobBody(), as(c.key));
    const patch = (body: unknown, key: string) => kiln.api('PATCH', `/api/companies/${c.id}`, body, as(key));
    expect((await submit()).status).toBe(202);
    expectRetryLater(await submit(), 'queue_full');

    const own = await patch({ maxQueuedJobs: 100 }, c.key);
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('forbidden');
    const foreign = await patch({ maxQueuedJobs: 100 }, other.key);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('company_not_found');
    for (const body of [{ maxQueuedJobs: 2, bogus: true }, {}, { maxQueuedJobs: 0 }, { maxQueuedJobs: 2.5 }, { maxQueuedJobs: '2' }]) {
      const res = await patch(body, adminKey);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect(await capOf(c.id)).toBe(1);
    expectRetryLater(await submit(), 'queue_full');

    const raised = await patch({ maxQueuedJobs: 2 }, adminKey);
    expect(raised.status).toBe(200);
    expect(raised.body.maxQueuedJobs).toBe(2);
    expect(await capOf(c.id)).toBe(2);
    expect((await submit()).status).toBe(202);
    expectRetryLater(await submit(), 'queue_full');
    expect(await countJobs(c.id)).toBe(2);
  });

  it('far from the cap inserts skip counting the queue, yet a sequence of submits stops exactly at the cap', async () => {
    // 1,000 with a headroom of 100: the first 900 or so go in on the process's known count, the
    // last ones count the queue in their own statement.
    const c = await company({ name: 'Thousand', maxQueuedJobs: 1000 });
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 1010; i++) {
      const res = await kiln.api('POST', `/api/companies/${c.id}/content-jobs`, jobBody(), as(c.key));
      if (res.status === 202) accepted++;
      else {
        expectRetryLater(res, 'queue_full');
        refused++;
      }
    }
    expect({ accepted, refused }).toEqual({ accepted: 1000, refused: 10 });
    expect(await countJobs(c.id, `status = 'queued'`)).toBe(1000);
  });

  it('a cap lowered by PATCH holds for the very next submit, however far the queue was from the old cap', async () => {
    const c = await company({ name: 'Lowered', maxQueuedJobs: 10_000 });
    const submit = () => kiln.api('POST', `/api/companies/${c.id}/content-jobs`, jobBody(), as(c.key));
    for (let i = 0; i < 3; i++) expect((await submit()).status).toBe(202);
    // Let the process learn the company's queue (read after an insert, off the request path).
    await new Promise((r) => setTimeout(r, 200));
    expect((await kiln.api('PATCH', `/api/companies/${c.id}`, { maxQueuedJobs: 3 }, as(adminKey))).status).toBe(200);
    expectRetryLater(await submit(), 'queue_full');
    expect(await countJobs(c.id)).toBe(3);
  });

  it('writes an API key’s last_used_at at most once a minute', async () => {
    const { id, key } = await apiKeyService(kiln.database.pool).create({ companyId: other.id, name: 'watched' });
    const lastUsed = async () =>
      (await kiln.database.pool.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [id])).rows[0].last_used_at as Date | null;
    const read = async () => expect((await kiln.api('GET', `/api/companies/${other.id}`, undefined, as(key))).status).toBe(200);

    expect(await lastUsed()).toBeNull();
    await read();
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    await read();
    await read();
    expect((await lastUsed())!.getTime()).toBe(first!.getTime());

    // Once the last write is more than a minute old, the next request writes again.
    await kiln.database.pool.query(`UPDATE api_keys SET last_used_at = last_used_at - interval '61 seconds' WHERE id = $1`, [id]);
    const aged = (await lastUsed())!;
    await read();
    expect((await lastUsed())!.getTime()).toBeGreaterThan(aged.getTime());
  });
});
