import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_POSITION_EVENT, queuePositionEventSchema } from '@kiln/shared';
import { claimQueuedJobs, transitionJob } from '../src/services/jobs/job-lifecycle.js';
import { estimateQueue, jobsAheadInQueue, QUEUE_POSITION_LIMIT } from '../src/services/jobs/queue-estimates.js';
import { findJobsAhead, listQueueUpTo, readCompanySlots, type JobsAhead } from '../src/services/jobs/queue-stats-store.js';
import { connectSse, type SseConnection } from './support/sse-client.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { startTestKiln, type TestKiln } from './support/test-kiln.js';

/** Claims in these tests take any kind they find (a worker's claim names the kinds of its slot group). */
const ALL_KINDS = ['chart', 'image', 'video', 'test-fail', 'test-slow'];

const WORKER = 'w1@queue-position-test:1';

async function submit(kiln: TestKiln, companyId: string, priority: number, kind = 'test-slow'): Promise<string> {
  const res = await kiln.api('POST', `/api/companies/${companyId}/content-jobs`, { kind, input: kind === 'test-slow' ? { ms: 10 } : {}, priority });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId;
}

const getJob = async (kiln: TestKiln, companyId: string, jobId: string) => (await kiln.api('GET', `/api/companies/${companyId}/content-jobs/${jobId}`)).body;

async function createCompany(kiln: TestKiln, name: string, maxConcurrentJobs: number): Promise<string> {
  const res = await kiln.api('POST', '/api/companies', { name, maxConcurrentJobs });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** The positions a round of the SSE followers computes for these jobs (one fold of the queue). */
async function foldedPositions(kiln: TestKiln, jobIds: string[]): Promise<Map<string, number>> {
  const rows = await listQueueUpTo(kiln.database.pool, jobIds, QUEUE_POSITION_LIMIT);
  const slots = await readCompanySlots(kiln.database.pool, [...new Set(rows.map((r) => r.companyId))]);
  const ahead = jobsAheadInQueue(rows, slots);
  return new Map([...ahead].map(([id, a]) => [id, estimateQueue(a, [], Date.now()).queuePosition]));
}

describe('estimateQueue (the arithmetic)', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const ahead = (over: Partial<JobsAhead>): JobsAhead => ({ companyId: 'own', runAt: new Date(now - 1000), runningTotal: 2, groups: [], counted: 0, ...over });

  it('counts its own company\'s jobs ahead, and another company\'s only up to the slots it has free', () => {
    const a = ahead({
      groups: [
        { companyId: 'own', kind: 'image', n: 3, maxConcurrent: 1, running: 1 }, // own: all 3, even at its limit
        { companyId: 'busy', kind: 'image', n: 7, maxConcurrent: 2, running: 2 }, // at its limit: none
        { companyId: 'open', kind: 'chart', n: 5, maxConcurrent: 4, running: 1 }, // 3 free: 3
        { companyId: 'open', kind: 'image', n: 1, maxConcurrent: 4, running: 1 }, // (the same company: 6 ahead, 3 count)
      ],
    });
    expect(estimateQueue(a, [], now)).toEqual({ queuePosition: 6, estimatedStartAt: null });
  });

  it('estimates the start from how long the kinds ahead took, over the running slots', () => {
    const a = ahead({ runningTotal: 2, groups: [{ companyId: 'own', kind: 'chart', n: 3, maxConcurrent: 4, running: 2 }] });
    const history = [
      { kind: 'chart', n: 10, meanSeconds: 4 },
      { kind: 'image', n: 30, meanSeconds: 1 },
    ];
    // Three charts ahead (4 s each) and one slot to free (overall mean: (10·4 + 30·1) / 40 = 1.75 s), over 2 slots.
    const wait = ((3 * 4 + 1.75) / 2) * 1000;
    expect(estimateQueue(a, history, now)).toEqual({ queuePosition: 3, estimatedStartAt: new Date(now + wait).toISOString() });
    // A kind without history counts as the overall mean; never before the job's own run_at.
    const unknown = ahead({ runningTotal: 0, runAt: new Date(now + 60_000), groups: [{ companyId: 'own', kind: 'video', n: 1, maxConcurrent: 4, running: 0 }] });
    expect(estimateQueue(unknown, history, now).estimatedStartAt).toBe(new Date(now + 60_000).toISOString());
    const soon = ahead({ runningTotal: 0, groups: [{ companyId: 'own', kind: 'video', n: 1, maxConcurrent: 4, running: 0 }] });
    expect(estimateQueue(soon, history, now).estimatedStartAt).toBe(new Date(now + 2 * 1.75 * 1000).toISOString());
  });
});

describe('queuePosition on GET, in claim order', () => {
  let kiln: TestKiln;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
  });
  afterAll(async () => kiln?.cleanup());

  it('numbers N queued jobs of mixed priorities 0…N−1, the order the claim then takes them in', async () => {
    const c = kiln.companyId;
    expect((await kiln.api('PATCH', `/api/companies/${c}`, { maxConcurrentJobs: 50 })).status).toBe(200);
    const priorities = [0, 5, 0, 10, 5, -1, 10, 0];
    const ids: string[] = [];
    for (const p of priorities) ids.push(await submit(kiln, c, p));
    // Higher priority first, then submission order (run_at), as claimQueuedJobs orders them.
    const expected = ids.map((id, i) => ({ id, p: priorities[i]!, i })).sort((a, b) => b.p - a.p || a.i - b.i).map((x) => x.id);

    const positions = new Map<string, number>();
    for (const id of ids) {
      const job = await getJob(kiln, c, id);
      expect(job.status).toBe('queued');
      positions.set(id, job.queuePosition);
    }
    expect(expected.map((id) => positions.get(id))).toEqual(priorities.map((_, i) => i));
    // The SSE followers' fold of the queue agrees with the reads.
    expect(await foldedPositions(kiln, ids)).toEqual(positions);
    // The list does not compute positions (that would cost a count per row).
    const list = await kiln.api('GET', `/api/companies/${c}/content-jobs?status=queued`);
    expect(list.body.items.every((j: any) => j.queuePosition === null)).toBe(true);

    const claimed: string[] = [];
    for (let i = 0; i < ids.length; i++) claimed.push(...(await claimQueuedJobs(kiln.database.pool, WORKER, 1, ALL_KINDS)).map((j) => j.id));
    expect(claimed).toEqual(expected);
    const running = await getJob(kiln, c, ids[0]!);
    expect(running).toMatchObject({ status: 'running', queuePosition: null, estimatedStartAt: null });
  });
});

describe('queuePosition with companies at their concurrency limit', () => {
  let kiln: TestKiln;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
  });
  afterAll(async () => kiln?.cleanup());

  it("counts another company's jobs ahead only up to its free slots, and its own all", async () => {
    const atLimit = await createCompany(kiln, 'At its limit', 1);
    const twoSlots = await createCompany(kiln, 'Two slots', 2);
    const b = kiln.companyId;

    // `atLimit` runs one job (its limit) and has two more of the highest priority queued.
    const first = await submit(kiln, atLimit, 10);
    expect((await claimQueuedJobs(kiln.database.pool, WORKER, 1, ALL_KINDS)).map((j) => j.id)).toEqual([first]);
    const [a1, a2] = [await submit(kiln, atLimit, 10), await submit(kiln, atLimit, 10)];
    const [c1, c2, c3] = [await submit(kiln, twoSlots, 5), await submit(kiln, twoSlots, 5), await submit(kiln, twoSlots, 5)];
    const b1 = await submit(kiln, b, 0);

    const position = async (companyId: string, id: string) => (await getJob(kiln, companyId, id)).queuePosition;
    expect(await position(atLimit, a1!)).toBe(0);
    expect(await position(atLimit, a2!)).toBe(1); // its own job ahead counts, limit or not
    expect(await position(twoSlots, c1!)).toBe(0); // atLimit's two cannot run: they do not count
    expect(await position(twoSlots, c2!)).toBe(1);
    expect(await position(twoSlots, c3!)).toBe(2);
    expect(await position(b, b1)).toBe(2); // atLimit: 0 of 2; twoSlots: 2 of 3 (its free slots)
    expect(await foldedPositions(kiln, [a1!, a2!, c1!, c2!, c3!, b1])).toEqual(
      new Map([[a1!, 0], [a2!, 1], [c1!, 0], [c2!, 1], [c3!, 2], [b1, 2]]),
    );

    // The claim agrees: twoSlots' first two, then b1; atLimit's wait for its running job.
    expect((await claimQueuedJobs(kiln.database.pool, WORKER, 10, ALL_KINDS)).map((j) => j.id)).toEqual([c1, c2, b1]);
  });
});

describe('estimatedStartAt', () => {
  let kiln: TestKiln;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
  });
  afterAll(async () => kiln?.cleanup());

  it('is null without recent history, then a time in the future that grows with the position', async () => {
    const c = kiln.companyId;
    const probe = await submit(kiln, c, 0);
    expect(await getJob(kiln, c, probe)).toMatchObject({ status: 'queued', queuePosition: 0, estimatedStartAt: null });

    // History: a job that ran for at least 300 ms and ended (the lifecycle's own claim and transition).
    const ran = await submit(kiln, c, 100);
    expect((await claimQueuedJobs(kiln.database.pool, WORKER, 1, ALL_KINDS)).map((j) => j.id)).toEqual([ran]);
    await new Promise((r) => setTimeout(r, 300));
    const done = await transitionJob(kiln.database.pool, {
      jobId: ran, from: 'running', to: 'done', lockedBy: WORKER, event: { type: 'content_job.done', payload: { assetIds: [] } },
    });
    expect(done?.job.status).toBe('done');

    const later = [await submit(kiln, c, 0), await submit(kiln, c, 0)];
    // The history is read at most every 5 s per process: poll until this process has seen it.
    const deadline = Date.now() + 15_000;
    let views: any[] = [];
    let before = 0;
    for (;;) {
      before = Date.now();
      views = [];
      for (const id of [probe, ...later]) views.push(await getJob(kiln, c, id));
      if (views.every((v) => v.estimatedStartAt !== null) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(views.map((v) => v.queuePosition)).toEqual([0, 1, 2]);
    const starts = views.map((v) => Date.parse(v.estimatedStartAt));
    // Nothing runs now (one slot assumed); each job waits for the ones ahead and one more, ≥ 300 ms each.
    views.forEach((v, i) => expect(starts[i]! - before).toBeGreaterThanOrEqual((v.queuePosition + 1) * 300 - 5));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });
});

describe('content_job.queue_position on the job stream', () => {
  let kiln: TestKiln;
  beforeAll(async () => {
    kiln = await startTestKiln({}, { worker: false, rendererModules: [TEST_RENDERERS] });
  });
  afterAll(async () => kiln?.cleanup());

  const streamUrl = (jobId: string) => `${kiln.url}/api/companies/${kiln.companyId}/content-jobs/${jobId}/events`;
  const cancel = async (jobId: string) => expect((await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs/${jobId}/cancel`)).status).toBe(200);
  const positions = (sse: SseConnection) => sse.messages.filter((m) => m.event === QUEUE_POSITION_EVENT);

  it('sends live-only position changes (no id, at most one a second) and leaves Last-Event-ID resume intact', async () => {
    const [j1, j2, j3] = [await submit(kiln, kiln.companyId, 0), await submit(kiln, kiln.companyId, 0), await submit(kiln, kiln.companyId, 0)];
    const sse = await connectSse(streamUrl(j3!));
    const snapshot = await sse.waitFor((m) => m.event === 'snapshot');
    expect(snapshot.data).toMatchObject({ status: 'queued', queuePosition: 2 });
    const queuedEvent = await sse.waitFor((m) => m.event === 'content_job.queued');
    expect(queuedEvent.id).toMatch(/^\d+$/);

    await cancel(j1!);
    await sse.waitFor((m) => m.event === QUEUE_POSITION_EVENT && m.data.queuePosition === 1);
    await cancel(j2!);
    await sse.waitFor((m) => m.event === QUEUE_POSITION_EVENT && m.data.queuePosition === 0);

    // Only changes are sent, without `id:`, each in the documented shape, at most one per second.
    const sent = positions(sse);
    expect(sent.map((m) => m.data.queuePosition)).toEqual([1, 0]);
    for (const m of sent) {
      expect(m.id).toBeUndefined();
      expect(queuePositionEventSchema.safeParse(m.data).success).toBe(true);
      expect(m.data).toMatchObject({ jobId: j3, status: 'queued' });
    }
    for (let i = 1; i < sent.length; i++) expect(Date.parse(sent[i]!.data.createdAt) - Date.parse(sent[i - 1]!.data.createdAt)).toBeGreaterThanOrEqual(990);

    // What an EventSource would resume from: the last message that had an id — the stored event.
    const lastId = sse.messages.filter((m) => m.id !== undefined).at(-1)!.id!;
    expect(lastId).toBe(queuedEvent.id);
    sse.close();
    const resumed = await connectSse(streamUrl(j3!), { 'last-event-id': lastId });
    expect((await resumed.waitFor((m) => m.event === 'snapshot')).data).toMatchObject({ status: 'queued', queuePosition: 0 });
    await cancel(j3!);
    await resumed.ended;
    // After the resume point: exactly the stored events that followed it, then the stream closed.
    expect(resumed.messages.filter((m) => m.id !== undefined).map((m) => m.event)).toEqual(['content_job.canceled']);
    expect(resumed.messages.at(-1)!.event).toBe('content_job.canceled');

    // Never stored: the job's log holds its two real events only.
    const { rows } = await kiln.database.pool.query(`SELECT type FROM content_job_events WHERE job_id = $1 ORDER BY id`, [j3]);
    expect(rows.map((r) => r.type)).toEqual(['content_job.queued', 'content_job.canceled']);
  });

  it('serves many streams from one fold of the queue a round: each hears its own new position', async () => {
    const head = await submit(kiln, kiln.companyId, 0);
    const jobs: string[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await submit(kiln, kiln.companyId, 0));
    const streams = await Promise.all(jobs.map((id) => connectSse(streamUrl(id))));
    for (const [i, sse] of streams.entries()) expect((await sse.waitFor((m) => m.event === 'snapshot')).data.queuePosition).toBe(i + 1);
    await cancel(head);
    for (const [i, sse] of streams.entries()) {
      await sse.waitFor((m) => m.event === QUEUE_POSITION_EVENT && m.data.queuePosition === i);
      expect(positions(sse).map((m) => [m.id, m.data.jobId, m.data.queuePosition])).toEqual([[undefined, jobs[i], i]]);
      sse.close();
    }
    for (const id of jobs) await cancel(id);
  });

  it('sends nothing for a job that is not queued, and stops once the job leaves the queue', async () => {
    const ahead = await submit(kiln, kiln.companyId, 0);
    const job = await submit(kiln, kiln.companyId, 0);
    const sse = await connectSse(streamUrl(job));
    await sse.waitFor((m) => m.event === 'content_job.queued');
    // Claim both (the job leaves the queue), then cancel the one ahead: no position follows `running`.
    expect((await claimQueuedJobs(kiln.database.pool, WORKER, 2, ALL_KINDS)).map((j) => j.id)).toEqual([ahead, job]);
    await sse.waitFor((m) => m.event === 'content_job.running');
    const runningAt = sse.messages.length;
    await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs/${ahead}/cancel`);
    await new Promise((r) => setTimeout(r, 2500)); // two rounds of the followers
    expect(sse.messages.slice(runningAt).filter((m) => m.event === QUEUE_POSITION_EVENT)).toEqual([]);
    expect(positions(sse)).toEqual([]);
    sse.close();
  });
});
