import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';
import { waitForJob, type TestKiln } from './support/test-kiln.js';

/**
 * Kinds that only wait (on a remote API, or nothing) run in the worker process itself, in slots
 * of their own; any kind may checkpoint, and a retried attempt resumes from the checkpoint.
 */
let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
});
afterAll(() => kiln?.cleanup());

const jobs = () => `/api/companies/${kiln.companyId}/content-jobs`;
const submit = async (body: unknown) => (await kiln.api('POST', jobs(), body)).body.jobId as string;
const outputOf = async (job: any) => JSON.parse(await (await fetch(kiln.url + job.output.url)).text());

describe('kinds that run in the worker', () => {
  it('render in the worker process, with no render process involved', async () => {
    const job = await waitForJob(kiln, await submit({ kind: 'test-in-worker', input: { ms: 0 } }));
    expect(job.status).toBe('done');
    expect((await outputOf(job)).pid).toBe(process.pid); // the test Kiln's worker runs in this process
    const other = await waitForJob(kiln, await submit({ kind: 'test-checkpoint', input: { remoteId: 'x' } }));
    expect(other.status).toBe('done');
    expect((await outputOf(other)).resumed.startedBy).not.toBe(process.pid); // a render process
  });

  it('have slots of their own: at most their group size at once, and they never take a render slot', async () => {
    // The company may run more at once than the worker's slots, so only slots limit here.
    await kiln.api('PATCH', `/api/companies/${kiln.companyId}`, { maxConcurrentJobs: 20 });
    const inWorker = await Promise.all(Array.from({ length: 7 }, () => submit({ kind: 'test-in-worker', input: { ms: 1200 } })));
    const rendered = await Promise.all(Array.from({ length: 2 }, () => submit({ kind: 'test-slow', input: { ms: 1200, steps: 2 } })));
    let maxInWorker = 0;
    let renderedAlongside = false;
    const all = [...inWorker, ...rendered];
    for (;;) {
      const { rows } = await kiln.database.pool.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM content_jobs WHERE id = ANY($1::uuid[]) AND status = 'running' GROUP BY kind`,
        [all],
      );
      const running = Object.fromEntries(rows.map((r) => [r.kind, r.n]));
      maxInWorker = Math.max(maxInWorker, running['test-in-worker'] ?? 0);
      if ((running['test-in-worker'] ?? 0) > 0 && (running['test-slow'] ?? 0) > 0) renderedAlongside = true;
      const { rows: left } = await kiln.database.pool.query(`SELECT 1 FROM content_jobs WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')`, [all]);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(maxInWorker).toBe(3);
    expect(renderedAlongside).toBe(true);
    for (const id of all) expect((await waitForJob(kiln, id)).status).toBe('done');
  });
});

describe('checkpoints', () => {
  it.each(['test-checkpoint', 'test-checkpoint-in-worker'])('%s: a retried attempt resumes from what the failed one stored', async (kind) => {
    const job = await waitForJob(kiln, await submit({ kind, input: { remoteId: 'remote-42' } }), undefined, 60_000);
    expect(job.status).toBe('done');
    expect(job.attempt).toBe(2);
    expect((await outputOf(job)).resumed).toMatchObject({ remoteId: 'remote-42' });
    const { rows } = await kiln.database.pool.query(`SELECT checkpoint FROM content_jobs WHERE id = $1`, [job.id]);
    expect(rows[0].checkpoint).toMatchObject({ remoteId: 'remote-42' });
  });
});
