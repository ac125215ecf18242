import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { filesUnder } from './support/files-under.js';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));

let api: TestKiln;
const children: ChildProcess[] = [];

/** A real `kiln worker` process on the same database and data directory as the API under test. */
function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [KILN_BIN, 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: api.databaseUrl,
      KILN_DATA_DIR: api.dataDir,
      KILN_RENDERER_MODULES: TEST_RENDERERS,
      KILN_WORKER_CONCURRENCY: '1',
      KILN_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${stderr}`)));
  });
}


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
    const first = await startWorkerProcess();
    const { body } = await api.api('POST', `/api/companies/${api.companyId}/content-jobs`, {
      kind: 'test-slow',
      input: { ms: 4000, steps: 20 },
    });
    const jobId = body.jobId;
    await waitForJob(api, jobId, (j) => j.status === 'running' && j.progress > 0);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    // A second worker process notices the dead worker's released advisory lock and requeues the job.
    await startWorkerProcess();
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
    const w = await startWorkerProcess();
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
    await startWorkerProcess();
    const job = await waitForJob(api, body.jobId, undefined, 30_000);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } });
  });
});
