import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
});
afterAll(async () => kiln?.cleanup());

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
const imageJob = (fill = '#123456', extra: Record<string, unknown> = {}) => ({ kind: 'image', input: { svg: svgOf(fill) }, ...extra });

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

describe('POST content-jobs', () => {
  it('stores the queued row and its queued event', async () => {
    const res = await kiln.api('POST', jobsPath(), imageJob('#abcdef', { sourceTaskId: 'task-1', priority: 5, timeoutMs: 60_000 }));
    expect(res.status).toBe(202);
    const client = new pg.Client({ connectionString: kiln.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT company_id, kind, priority, timeout_ms, source_task_id FROM content_jobs WHERE id = $1', [res.body.jobId]);
      expect(rows[0]).toEqual({ company_id: kiln.companyId, kind: 'image', priority: 5, timeout_ms: 60_000, source_task_id: 'task-1' });
      const events = await client.query('SELECT type, payload FROM content_job_events WHERE job_id = $1 ORDER BY id', [res.body.jobId]);
      expect(events.rows[0]).toMatchObject({ type: 'content_job.queued', payload: { jobId: res.body.jobId, status: 'queued' } });
    } finally {
      await client.end();
    }
    await waitForJob(kiln, res.body.jobId);
  });

  it('unknown kind → 400 unknown_kind naming the known kinds', async () => {
    const res = await kiln.api('POST', jobsPath(), { kind: 'hologram', input: {} });
    expectError(res, 400, 'unknown_kind');
    expect(res.body.error.details.knownKinds).toContain('image');
    expect(res.body.error.message).toContain('image');
  });

  it('invalid input → 400 validation_failed with the offending paths', async () => {
    const res = await kiln.api('POST', jobsPath(), { kind: 'image', input: { svg: '', format: 'tiff' } });
    expectError(res, 400, 'validation_failed');
    const paths = res.body.error.details.map((d: any) => d.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['input.format']));
  });

  it('unknown body fields and bad types → 400 validation_failed', async () => {
    expectError(await kiln.api('POST', jobsPath(), { ...imageJob(), colour: 'red' }), 400, 'validation_failed');
    expectError(await kiln.api('POST', jobsPath(), { ...imageJob(), priority: 'high' }), 400, 'validation_failed');
    expectError(await kiln.api('POST', jobsPath(), undefined, { 'content-type': 'application/json' }), 400, 'validation_failed');
  });

  it('SVG with external references → 400 before anything is queued', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>';
    const res = await kiln.api('POST', jobsPath(), { kind: 'image', input: { svg } });
    expectError(res, 400, 'validation_failed');
  });

  it('unknown company → 404 company_not_found; malformed company id too', async () => {
    expectError(await kiln.api('POST', '/api/companies/7b0c8a36-3c0e-4d5f-9d42-3f4b9c5f0a11/content-jobs', imageJob()), 404, 'company_not_found');
    expectError(await kiln.api('POST', '/api/companies/not-a-uuid/content-jobs', imageJob()), 404, 'company_not_found');
  });

  it('malformed JSON → 400 invalid_json; wrong content type → 415; never 500', async () => {
    expectError(await kiln.api('POST', jobsPath(), '{"kind": "image",', { 'content-type': 'application/json' }), 400, 'invalid_json');
    expectError(await kiln.api('POST', jobsPath(), 'kind=image', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await kiln.api('POST', jobsPath(), 'hello', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });

  it('Idempotency-Key: same key and body → the original response; other body → 409', async () => {
    const key = `idem-${Date.now()}`;
    const first = await kiln.api('POST', jobsPath(), imageJob('#111111'), { 'idempotency-key': key });
    const again = await kiln.api('POST', jobsPath(), imageJob('#111111'), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await kiln.api('POST', jobsPath(), imageJob('#222222'), { 'idempotency-key': key });
    expectError(conflict, 409, 'idempotency_conflict');
    await waitForJob(kiln, first.body.jobId);
  });
});

describe('GET content-jobs', () => {
  it('404 job_not_found for unknown and malformed ids', async () => {
    expectError(await kiln.api('GET', `${jobsPath()}/5d3c2b1a-0000-4000-8000-000000000000`), 404, 'job_not_found');
    expectError(await kiln.api('GET', `${jobsPath()}/nope`), 404, 'job_not_found');
  });

  it('lists newest first with filters and a cursor that stays correct while jobs are added', async () => {
    const task = `list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 0, steps: 1 }, sourceTaskId: task })).body.jobId);
    }
    const page1 = await kiln.api('GET', `${jobsPath()}?sourceTaskId=${task}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((j: any) => j.id)).toEqual([ids[4], ids[3]]);
    expect(page1.body.nextCursor).toBe(ids[3]);
    // New jobs arrive between pages: they sort above the cursor and don't shift what follows.
    await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 0, steps: 1 }, sourceTaskId: task });
    const page2 = await kiln.api('GET', `${jobsPath()}?sourceTaskId=${task}&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((j: any) => j.id)).toEqual([ids[2], ids[1]]);
    const page3 = await kiln.api('GET', `${jobsPath()}?sourceTaskId=${task}&limit=2&cursor=${page2.body.nextCursor}`);
    expect(page3.body.items.map((j: any) => j.id)).toEqual([ids[0]]);
    expect(page3.body.nextCursor).toBeNull();

    for (const id of ids) await waitForJob(kiln, id);
    const done = await kiln.api('GET', `${jobsPath()}?sourceTaskId=${task}&status=done&kind=test-slow`);
    expect(done.body.items.length).toBeGreaterThanOrEqual(5);
    expect(done.body.items.every((j: any) => j.status === 'done' && j.kind === 'test-slow')).toBe(true);
  });

  it('rejects bad list parameters with 400', async () => {
    expectError(await kiln.api('GET', `${jobsPath()}?status=sleeping`), 400, 'validation_failed');
    expectError(await kiln.api('GET', `${jobsPath()}?limit=0`), 400, 'validation_failed');
    expectError(await kiln.api('GET', `${jobsPath()}?cursor=xyz`), 400, 'validation_failed');
  });
});

describe('companies, renderers, health', () => {
  it('has a default company and creates more', async () => {
    const list = await kiln.api('GET', '/api/companies');
    expect(list.body.items.map((c: any) => c.id)).toContain(kiln.companyId);
    const created = await kiln.api('POST', '/api/companies', { name: 'Acme', maxConcurrentJobs: 2 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme', maxConcurrentJobs: 2 });
    expectError(await kiln.api('POST', '/api/companies', { name: '' }), 400, 'validation_failed');
  });

  it('describes each renderer with a JSON Schema and an example that is accepted', async () => {
    const res = await kiln.api('GET', '/api/renderers');
    const image = res.body.items.find((r: any) => r.kind === 'image');
    expect(image.inputSchema.$schema).toContain('json-schema.org');
    expect(JSON.stringify(image.inputSchema)).toContain('"svg"');
    for (const r of res.body.items.filter((x: any) => !x.kind.startsWith('test-'))) {
      const created = await kiln.api('POST', jobsPath(), { kind: r.kind, input: r.example });
      expect(created.status, `example of ${r.kind}: ${JSON.stringify(created.body)}`).toBe(202);
      await kiln.api('POST', `${jobsPath()}/${created.body.jobId}/cancel`);
    }
  });

  it('health and readiness', async () => {
    expect((await kiln.api('GET', '/api/health')).body).toEqual({ status: 'ok' });
    // Readiness includes a live render process: the test before cancels running renders, and a
    // render that does not stop in time costs its process (replaced within a second or two), so
    // readiness may lag a moment. It must come back, with every check true.
    let ready = await kiln.api('GET', '/api/ready');
    for (const deadline = Date.now() + 30_000; ready.status !== 200 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await kiln.api('GET', '/api/ready');
    }
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: true, migrations: true, worker: true, inputCheckers: true });
  });

  it('unknown routes answer JSON 404', async () => {
    expectError(await kiln.api('GET', '/api/nothing-here'), 404, 'not_found');
  });
});
