import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from '@kiln/db';
import { createTestDatabaseUrl } from './support/test-kiln.js';
import { createTransactionRunner } from '../src/db/transactions.js';
import { pruneOldRows } from '../src/worker/retention.js';
import { sweepDeadWorkersScratch } from '../src/worker/scratch-sweeper.js';
import { LEASE_SECONDS, reapLostJobs, WORKER_LOCK_CLASS } from '../src/services/jobs/job-queue.js';
import { settleRunningJob } from '../src/services/jobs/job-lifecycle.js';

/** Retention, dead workers' scratch folders, and how lost or canceled jobs are settled — against a real database. */
let db: Database;
let companyId: string;
const tx = () => createTransactionRunner(db.pool);

beforeAll(async () => {
  db = createDatabase(await createTestDatabaseUrl());
  companyId = (await db.pool.query(`INSERT INTO companies (name) VALUES ('housekeeping') RETURNING id`)).rows[0].id;
  // Right after PostgreSQL starts, a free worker lock means nothing yet (see reapLostJobs); the
  // reaper tests need a server that has been up for longer than the lease.
  const { rows } = await db.pool.query(`SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS up`);
  const wait = (LEASE_SECONDS + 1 - rows[0].up) * 1000;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}, 30_000);
afterAll(() => db?.close());

async function insertJob(fields: Record<string, unknown>): Promise<string> {
  const cols = ['company_id', 'kind', 'input', 'timeout_ms', ...Object.keys(fields)];
  const values = [companyId, 'test-slow', '{}', 60_000, ...Object.values(fields)];
  const { rows } = await db.pool.query(
    `INSERT INTO content_jobs (${cols.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    values,
  );
  return rows[0].id;
}
const addEvent = (jobId: string) =>
  db.pool.query(`INSERT INTO content_job_events (company_id, job_id, type, payload) VALUES ($1, $2, 'content_job.queued', '{}')`, [companyId, jobId]);
const jobRow = async (id: string) =>
  (await db.pool.query(`SELECT status, attempt, lost_attempts AS "lostAttempts", run_at AS "runAt", error_code AS "errorCode" FROM content_jobs WHERE id = $1`, [id])).rows[0];

describe('retention', () => {
  it('prunes event rows of jobs finished longer ago than the retention period, keeping jobs, recent events and assets', async () => {
    const old = await insertJob({ status: 'done', finished_at: new Date(Date.now() - 40 * 86_400_000) });
    const recent = await insertJob({ status: 'done', finished_at: new Date(Date.now() - 2 * 86_400_000) });
    const active = await insertJob({ status: 'queued' });
    for (const id of [old, old, old, recent, active]) await addEvent(id);
    await db.pool.query(
      `INSERT INTO assets (company_id, provider, namespace, object_key, content_type, byte_size, sha256, original_filename, source_job_id, role)
       VALUES ($1, 'local', 'generated', 'k/old', 'text/plain', 1, 'x', 'old.txt', $2, 'primary')`,
      [companyId, old],
    );
    const pruned = await pruneOldRows(db.pool, 30);
    expect(pruned.events).toBe(3);
    const count = async (id: string) => (await db.pool.query(`SELECT count(*)::int AS n FROM content_job_events WHERE job_id = $1`, [id])).rows[0].n;
    expect(await count(old)).toBe(0);
    expect(await count(recent)).toBe(1);
    expect(await count(active)).toBe(1);
    expect(await jobRow(old)).toMatchObject({ status: 'done' });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM assets WHERE source_job_id = $1`, [old])).rows[0].n).toBe(1);
  });
});

describe('scratch folders of dead workers', () => {
  it('removes the folders of workers whose lock is free, keeps a live worker’s and its own', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'kiln-scratch-'));
    const live = new pg.Client({ connectionString: db.url });
    await live.connect();
    try {
      await live.query('SELECT pg_advisory_lock($1, $2)', [WORKER_LOCK_CLASS, 4242]);
      const old = new Date(Date.now() - 10 * 60_000);
      for (const name of ['w1111', 'w4242', 'w7777', 'job-legacy-x', 'not-ours']) {
        await mkdir(path.join(tmp, name, 'job-1'), { recursive: true });
        await writeFile(path.join(tmp, name, 'job-1', 'partial.bin'), 'x');
        await utimes(path.join(tmp, name), old, old);
      }
      await mkdir(path.join(tmp, 'w3333')); // dead, but just created: may be a worker starting up
      const removed = await sweepDeadWorkersScratch({ tmpDir: tmp, selfLockKey: 7777, tx: tx() });
      expect(removed).toBe(2);
      expect(existsSync(path.join(tmp, 'w1111'))).toBe(false); // dead
      expect(existsSync(path.join(tmp, 'job-legacy-x'))).toBe(false); // old layout, old
      expect(existsSync(path.join(tmp, 'w4242'))).toBe(true); // alive
      expect(existsSync(path.join(tmp, 'w7777'))).toBe(true); // ourselves
      expect(existsSync(path.join(tmp, 'w3333'))).toBe(true); // too young
      expect(existsSync(path.join(tmp, 'not-ours'))).toBe(true);
    } finally {
      await live.end();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('settling lost and canceled jobs', () => {
  it('a dead worker’s job goes back to the queue in its old place; only the first loss costs an attempt', async () => {
    const runAt = new Date(Date.now() - 3_600_000);
    const lost = await insertJob({
      status: 'running', attempt: 1, run_at: runAt, locked_by: 'w90001@gone:1', heartbeat_at: new Date(Date.now() - 60_000),
    });
    expect(await reapLostJobs(tx(), db.pool, 'w1@me:1')).toBeGreaterThanOrEqual(1);
    expect(await jobRow(lost)).toMatchObject({ status: 'queued', attempt: 1, lostAttempts: 1, runAt });

    // Lost again on its second attempt: given back.
    await db.pool.query(`UPDATE content_jobs SET status = 'running', attempt = 2, locked_by = 'w90002@gone:1', heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [lost]);
    await reapLostJobs(tx(), db.pool, 'w1@me:1');
    expect(await jobRow(lost)).toMatchObject({ status: 'queued', attempt: 1, lostAttempts: 2, runAt });
  });

  it('a live worker is never reaped, even with an old heartbeat, while its lock is held', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [WORKER_LOCK_CLASS, 90003]);
      const job = await insertJob({ status: 'running', attempt: 1, locked_by: 'w90003@alive:1', heartbeat_at: new Date(Date.now() - 5_000) });
      await reapLostJobs(tx(), db.pool, 'w1@me:1');
      expect(await jobRow(job)).toMatchObject({ status: 'running' });
    } finally {
      await holder.end();
    }
  });

  it('a retryable failure of a job whose cancellation was asked for ends canceled, not queued forever', async () => {
    const job = await insertJob({ status: 'running', attempt: 1, locked_by: 'w5@me:1', cancel_requested_at: new Date() });
    const status = await tx().inTransaction((q) =>
      settleRunningJob(q, job, 'w5@me:1', { kind: 'failed', error: { code: 'render_failed', message: 'flaky' }, retryable: true }),
    );
    expect(status).toBe('canceled');
    expect(await jobRow(job)).toMatchObject({ status: 'canceled', errorCode: 'canceled' });
  });

  it('a worker cannot settle a job that is no longer its own', async () => {
    const job = await insertJob({ status: 'running', attempt: 1, locked_by: 'w6@other:1' });
    const status = await tx().inTransaction((q) => settleRunningJob(q, job, 'w5@me:1', { kind: 'shutdown' }));
    expect(status).toBeNull();
    expect(await jobRow(job)).toMatchObject({ status: 'running' });
  });
});
