import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { filesUnder } from './support/files-under.js';
import pg from 'pg';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { startWorkerProcess } from './support/worker-process.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

let api: TestKiln;
const children: ChildProcess[] = [];

const startWorker = () => startWorkerProcess(api, { KILN_RENDERER_MODULES: TEST_RENDERERS, KILN_LOG_LEVEL: 'warn' }, children);

beforeAll(async () => {
  // API only: every job here is run by the child worker processes.
  api = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await api?.cleanup();
});

describe('a worker killed with SIGKILL', () => {
  it('leaves no job running: another worker retries it to done with exactly one primary asset and no stray file', async () => {
    const first = await startWorker();
    const { body } = await api.api('POST', `/api/companies/${api.companyId}/content-jobs`, {
      kind: 'test-slow',
      input: { ms: 4000, steps: 20 },
    });
    const jobId = body.jobId;
    await waitForJob(api, jobId, (j) => j.status === 'running' && j.progress > 0);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    // A second worker process notices the dead worker's released advisory lock and requeues the job.
    await startWorker();
    const job = await waitForJob(api, jobId, undefined, 30_000);
    expect(job.status).toBe('done');
    expect(job.attempt).toBe(2);
    expect(job.assets.filter((a: any) => a.role === 'primary')).toHaveLength(1);

    const client = new pg.Client({ connectionString: api.databaseUrl });
    await client.connect();
    try {
      const events = await client.query('SELECT type, payload FROM content_job_events WHERE job_id = $1 ORDER BY id', [jobId]);
      const retry = events.rows.find((r) => r.type === 'content_job.retrying');
      expect(retry?.payload.error.code).toBe('worker_lost');
      const keys = (await client.query('SELECT object_key FROM assets WHERE source_job_id = $1', [jobId])).rows.map((r) => r.object_key);
      const onDisk = (await filesUnder(path.join(api.dataDir, 'storage'))).map((f) => path.relative(path.join(api.dataDir, 'storage'), f));
      expect(onDisk.sort()).toEqual(keys.sort());
    } finally {
      await client.end();
    }
  });

  it('fails the job with worker_lost when its attempts are used up', async () => {
    const w = await startWorker();
    const { body } = await api.api('POST', `/api/companies/${api.companyId}/content-jobs`, {
      kind: 'test-slow',
      input: { ms: 60_000, steps: 60 },
      maxAttempts: 1,
    });
    // Other workers from the previous test may pick it up; kill whichever runs it.
    const running = await waitForJob(api, body.jobId, (j) => j.status === 'running');
    void running;
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    void w;
    await startWorker();
    const job = await waitForJob(api, body.jobId, undefined, 30_000);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } });
  });
});
