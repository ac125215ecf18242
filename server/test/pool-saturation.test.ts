import { afterAll, describe, expect, it } from 'vitest';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { listEventsOfJob } from '../src/services/events/event-store.js';
import { LEASE_SECONDS } from '../src/services/jobs/job-queue.js';

/**
 * Liveness that load cannot fake: a worker's heartbeat and lock live on its own connection, so an
 * API whose request pool is saturated (slow queries, a traffic spike) does not make the worker in
 * the same process look dead to the others; and the saturated pool answers 503 database_busy
 * instead of hanging.
 */
const started: TestKiln[] = [];
afterAll(() => Promise.all(started.map((k) => k.cleanup())));

describe('a saturated request pool', () => {
  it('answers 503 database_busy with Retry-After, and no live worker’s job is reaped or run twice', async () => {
    const a = await startTestKiln(
      { KILN_DB_POOL_SIZE: '3', KILN_DB_ACQUIRE_TIMEOUT_MS: '500' },
      { rendererModules: [TEST_RENDERERS] },
    );
    started.push(a);
    const path = `/api/companies/${a.companyId}/content-jobs`;
    const res = await a.api('POST', path, { kind: 'test-slow', input: { ms: (LEASE_SECONDS + 6) * 1000, steps: 20 } });
    const jobId = res.body.jobId;
    const running = await waitForJob(a, jobId, (j) => j.status === 'running');
    expect(running.attempt).toBe(1);

    // A second worker on the same database: its reaper would take the job if A looked dead.
    const b = await startTestKiln({}, { databaseUrl: a.databaseUrl, api: false, rendererModules: [TEST_RENDERERS] });
    started.push(b);

    // Occupy every connection of A's request pool for longer than the lease.
    const holdMs = (LEASE_SECONDS + 3) * 1000;
    const hogs = Array.from({ length: 3 }, () => a.database.pool.query('SELECT pg_sleep($1)', [holdMs / 1000]));
    await new Promise((r) => setTimeout(r, 300));
    const busy = await a.api('GET', `${path}/${jobId}`);
    expect(busy.status).toBe(503);
    expect(busy.body.error.code).toBe('database_busy');
    expect(busy.headers.get('retry-after')).toBe('1');
    await Promise.all(hogs);

    const done = await waitForJob(a, jobId, undefined, 60_000);
    expect(done.status).toBe('done');
    expect(done.attempt).toBe(1);
    const types = (await listEventsOfJob(a.database.pool, a.companyId, jobId)).map((e) => e.type);
    expect(types.filter((t) => t === 'content_job.running')).toHaveLength(1);
    expect(types).not.toContain('content_job.retrying');
  }, 90_000);
});
