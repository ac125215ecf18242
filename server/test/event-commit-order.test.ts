import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestKiln, type TestKiln } from './support/test-kiln.js';
import { connectSse, type SseConnection } from './support/sse-client.js';
import { appendJobEvent } from '../src/services/jobs/job-lifecycle.js';

/**
 * Event ids are taken before commit, so a transaction that began earlier can commit later than
 * one that began after it. Streams must still deliver and resume in an order that such a late
 * commit cannot break: a company stream resumed at any point sees exactly the events after that
 * point, none twice and none missing — and a long transaction of another application on the same
 * server must not stall them.
 */
let kiln: TestKiln;
let jobId: string;
const clients: pg.Client[] = [];

beforeAll(async () => {
  kiln = await startTestKiln({}, { worker: false });
  const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'speech', input: { text: 'x' } });
  jobId = res.body.jobId;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await kiln?.cleanup();
});

async function connect(applicationName: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: kiln.databaseUrl, application_name: applicationName });
  await c.connect();
  clients.push(c);
  return c;
}

/** One event in its own transaction, committed `delayMs` after its row (and id) was written. */
async function writeEvent(c: pg.Client, label: string, delayMs: number): Promise<string> {
  await c.query('BEGIN');
  const id = await appendJobEvent(c, { companyId: kiln.companyId, jobId, type: 'content_job.progress', payload: { status: 'queued', label } });
  await new Promise((r) => setTimeout(r, delayMs));
  await c.query('COMMIT');
  return id;
}

const eventIds = (s: SseConnection) => s.messages.filter((m) => m.id).map((m) => m.id!);

describe('events in commit order', () => {
  it('a late commit is neither skipped nor repeated by streams resumed at any point', async () => {
    const companyEvents = `${kiln.url}/api/companies/${kiln.companyId}/events`;
    // Another application's long write transaction (it holds an xid the whole time).
    const report = await connect('nightly-report');
    await report.query('BEGIN');
    await report.query('CREATE TEMP TABLE report_scratch (n int)');
    await report.query('INSERT INTO report_scratch VALUES (1)');

    const main = await connectSse(companyEvents);
    await main.waitFor((m) => m.event === 'snapshot');

    // The race made certain: A writes first (lower id) and commits last; B writes after A and
    // commits at once. Then many writers with random delays, overlapping.
    const writers = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(`kiln-test-writer-${i}`)));
    const a = writeEvent(writers[0]!, 'A', 1500);
    await new Promise((r) => setTimeout(r, 50));
    const b = await writeEvent(writers[1]!, 'B', 0);
    // B is committed, but an older transaction (A) is still open: B must not be delivered yet,
    // or a client resuming after B would never see A.
    await new Promise((r) => setTimeout(r, 300));
    expect(eventIds(main)).not.toContain(b);
    const written: Promise<string>[] = [a, Promise.resolve(b)];
    const resumed: { after: string; stream: SseConnection }[] = [];
    for (let round = 0; round < 10; round++) {
      for (let w = 2; w < writers.length; w++) written.push(writeEvent(writers[w]!, `r${round}w${w}`, Math.floor(Math.random() * 120)));
      // Resume at a random event the main stream has delivered so far.
      const seen = eventIds(main);
      if (seen.length > 0) {
        const after = seen[Math.floor(Math.random() * seen.length)]!;
        resumed.push({ after, stream: await connectSse(companyEvents, { 'last-event-id': after }) });
      }
      await Promise.all(written.slice(-(writers.length - 2)));
    }
    const all = await Promise.all(written);
    const aId = await a;

    // Everything arrives while the other application's transaction is still open.
    await main.waitFor(() => eventIds(main).length >= all.length, 20_000);
    const delivered = eventIds(main);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(new Set(delivered)).toEqual(new Set(all));
    // The race really happened (B's id is higher, B committed 1.5 s before A), and B was held
    // back until A committed: a client that has seen B can never miss A.
    expect(BigInt(b)).toBeGreaterThan(BigInt(aId));
    expect(delivered.indexOf(aId)).toBeLessThan(delivered.indexOf(b));

    for (const { after, stream } of resumed) {
      const expected = delivered.slice(delivered.indexOf(after) + 1);
      await stream.waitFor(() => eventIds(stream).length >= expected.length, 20_000);
      expect(eventIds(stream), `resumed after ${after}`).toEqual(expected);
      stream.close();
    }
    main.close();
    await report.query('ROLLBACK');
  });
});
