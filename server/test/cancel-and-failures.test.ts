import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { filesUnder } from './support/files-under.js';
import pg from 'pg';
import { waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds({ MAX_GENERATED_ASSET_BYTES: String(1024 * 1024) });
});
afterAll(async () => kiln?.cleanup());

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
const submit = async (body: Record<string, unknown>) => {
  const res = await kiln.api('POST', jobsPath(), body);
  expect(res.status).toBe(202);
  return res.body.jobId as string;
};
const running = (job: any) => job.status === 'running';


async function eventTypes(jobId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: kiln.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT type FROM content_job_events WHERE job_id = $1 ORDER BY id', [jobId]);
    return rows.map((r) => r.type);
  } finally {
    await client.end();
  }
}

describe('cancel', () => {
  it('cancels a queued job at once', async () => {
    // Fill both worker slots so the next job stays queued.
    const blockers = [await submit({ kind: 'test-slow', input: { ms: 60_000, steps: 60 } }), await submit({ kind: 'test-slow', input: { ms: 60_000, steps: 60 } })];
    for (const b of blockers) await waitForJob(kiln, b, running);
    const queued = await submit({ kind: 'test-slow', input: { ms: 10, steps: 1 } });
    const res = await kiln.api('POST', `${jobsPath()}/${queued}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
    expect(await eventTypes(queued)).toEqual(['content_job.queued', 'content_job.canceled']);
    for (const b of blockers) await kiln.api('POST', `${jobsPath()}/${b}/cancel`);
    for (const b of blockers) expect((await waitForJob(kiln, b)).status).toBe('canceled');
  });

  it('cancels a running job: its signal fires and it ends canceled with no asset', async () => {
    const jobId = await submit({ kind: 'test-slow', input: { ms: 60_000, steps: 100 } });
    await waitForJob(kiln, jobId, (j) => j.status === 'running' && j.progress > 0);
    const res = await kiln.api('POST', `${jobsPath()}/${jobId}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.cancelRequested).toBe(true);
    const job = await waitForJob(kiln, jobId, undefined, 2000); // the promise: within 2 s
    expect(job).toMatchObject({ status: 'canceled', assets: [] });
  });

  it('terminates a renderer that ignores its signal', async () => {
    const jobId = await submit({ kind: 'test-spin', input: { ms: 30_000 } });
    await waitForJob(kiln, jobId, running);
    await kiln.api('POST', `${jobsPath()}/${jobId}/cancel`);
    expect((await waitForJob(kiln, jobId, undefined, 4000)).status).toBe('canceled');
    // The pool replaced the terminated thread: the next job still runs.
    const next = await submit({ kind: 'test-slow', input: { ms: 0, steps: 1 } });
    expect((await waitForJob(kiln, next)).status).toBe('done');
  });

  it('409 job_not_cancelable for a job that already ended', async () => {
    const jobId = await submit({ kind: 'test-slow', input: { ms: 0, steps: 1 } });
    await waitForJob(kiln, jobId);
    const res = await kiln.api('POST', `${jobsPath()}/${jobId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('job_not_cancelable');
  });
});

describe('failures', () => {
  it('a non-retryable render error fails the job once, with its code, and deletes partial output', async () => {
    const before = await filesUnder(path.join(kiln.dataDir, 'storage'));
    const jobId = await submit({ kind: 'test-fail', input: { code: 'render_failed', retryable: false, partial: true } });
    const job = await waitForJob(kiln, jobId);
    expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'render_failed' }, assets: [] });
    const after = await filesUnder(path.join(kiln.dataDir, 'storage'));
    expect(after.filter((f) => !before.includes(f) && !f.includes('.partial'))).toEqual([]);
  });

  it('a retryable error goes back to the queue with backoff until max attempts, then fails', async () => {
    const jobId = await submit({ kind: 'test-fail', input: { code: 'render_failed', retryable: true }, maxAttempts: 2 });
    const job = await waitForJob(kiln, jobId, undefined, 20_000);
    expect(job).toMatchObject({ status: 'failed', attempt: 2, error: { code: 'render_failed' } });
    expect(await eventTypes(jobId)).toEqual([
      'content_job.queued', 'content_job.running', 'content_job.retrying', 'content_job.running', 'content_job.failed',
    ]);
  });

  it('an output over MAX_GENERATED_ASSET_BYTES fails with asset_too_large and leaves no bytes on disk', async () => {
    const before = await filesUnder(path.join(kiln.dataDir, 'storage'));
    const jobId = await submit({ kind: 'test-bytes', input: { bytes: 5 * 1024 * 1024 } });
    const job = await waitForJob(kiln, jobId);
    expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'asset_too_large' }, assets: [] });
    const after = await filesUnder(path.join(kiln.dataDir, 'storage'));
    expect(after.filter((f) => !before.includes(f))).toEqual([]);
    // Just under the limit is fine.
    const ok = await submit({ kind: 'test-bytes', input: { bytes: 1024 * 1024 } });
    const okJob = await waitForJob(kiln, ok);
    expect(okJob.status).toBe('done');
    expect(okJob.assets[0].byteSize).toBe(1024 * 1024);
  });

  it('one failing job does not affect others running beside it', async () => {
    const good = await submit({ kind: 'test-slow', input: { ms: 300, steps: 3 } });
    const bad = await submit({ kind: 'test-fail', input: { code: 'render_failed' } });
    expect((await waitForJob(kiln, bad)).status).toBe('failed');
    expect((await waitForJob(kiln, good)).status).toBe('done');
  });

  it('reads input assets of the same company and refuses another company’s', async () => {
    const src = await submit({ kind: 'test-bytes', input: { bytes: 1000 } });
    const srcJob = await waitForJob(kiln, src);
    const copy = await submit({ kind: 'test-copy', input: { assetId: srcJob.assets[0].id } });
    const copyJob = await waitForJob(kiln, copy);
    expect(copyJob.status).toBe('done');
    expect(copyJob.assets[0].sha256).toBe(srcJob.assets[0].sha256);

    const other = (await kiln.api('POST', '/api/companies', { name: 'Other' })).body.id;
    const res = await kiln.api('POST', `/api/companies/${other}/content-jobs`, { kind: 'test-copy', input: { assetId: srcJob.assets[0].id } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('asset_not_found');
  });
});
