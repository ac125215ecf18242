import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse } from './support/sse-client.js';
import { waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds({ KILN_SSE_KEEPALIVE_SECONDS: '0.2' });
});
afterAll(async () => kiln?.cleanup());

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
const eventsUrl = (jobId: string) => `${kiln.url}${jobsPath()}/${jobId}/events`;
const submit = async (kind: string, input: unknown) => (await kiln.api('POST', jobsPath(), { kind, input })).body.jobId as string;
const running = (job: any) => job.status === 'running';

describe('GET content-jobs/:jobId/events', () => {
  it('streams snapshot, then every event in order, and closes after done', async () => {
    const jobId = await submit('test-slow', { ms: 600, steps: 3 });
    const sse = await connectSse(eventsUrl(jobId));
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    await sse.ended;
    const types = sse.messages.map((m) => m.event);
    expect(types[0]).toBe('snapshot');
    expect(sse.messages[0]!.data).toMatchObject({ id: jobId });
    expect(types).toContain('content_job.queued');
    expect(types).toContain('content_job.running');
    expect(types).toContain('content_job.progress');
    expect(types).toContain('asset.created');
    expect(types.at(-1)).toBe('content_job.done');
    // Ids strictly increase and every payload carries jobId and status.
    const ids = sse.messages.slice(1).map((m) => BigInt(m.id!));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of sse.messages.slice(1)) expect(m.data).toMatchObject({ jobId, status: expect.any(String) });
    const done = sse.messages.at(-1)!;
    expect(done.data.status).toBe('done');
    expect(done.data.assetIds).toHaveLength(1);
    expect(sse.comments.length).toBeGreaterThan(0); // keep-alive comments were sent
  });

  it('closes after canceled for a job that was already running when the client connected', async () => {
    const jobId = await submit('test-slow', { ms: 60_000, steps: 60 });
    await waitForJob(kiln, jobId, running);
    const sse = await connectSse(eventsUrl(jobId));
    await sse.waitFor((m) => m.event === 'snapshot');
    expect(sse.messages[0]!.data.status).toBe('running');
    await kiln.api('POST', `${jobsPath()}/${jobId}/cancel`);
    await sse.ended;
    expect(sse.messages.at(-1)!.event).toBe('content_job.canceled');
  });

  it('closes after failed (timeout) for a running job', async () => {
    const { body } = await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 60_000, steps: 60 }, timeoutMs: 1500 });
    await waitForJob(kiln, body.jobId, running);
    const sse = await connectSse(eventsUrl(body.jobId));
    await sse.ended;
    const last = sse.messages.at(-1)!;
    expect(last.event).toBe('content_job.failed');
    expect(last.data.error).toMatchObject({ code: 'timeout' });
    const job = await waitForJob(kiln, body.jobId);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('closes after done for a running job, and right after the snapshot for one that already ended', async () => {
    const jobId = await submit('test-slow', { ms: 800, steps: 4 });
    await waitForJob(kiln, jobId, running);
    const live = await connectSse(eventsUrl(jobId));
    await live.ended;
    expect(live.messages.at(-1)!.event).toBe('content_job.done');

    const terminalId = live.messages.at(-1)!.id!;
    const resumed = await connectSse(eventsUrl(jobId), { 'last-event-id': terminalId });
    await resumed.ended;
    expect(resumed.messages.map((m) => m.event)).toEqual(['snapshot']);
    expect(resumed.messages[0]!.data.status).toBe('done');
  });

  it('resumes with Last-Event-ID (or ?since=) and returns only later events', async () => {
    const jobId = await submit('test-slow', { ms: 200, steps: 2 });
    await waitForJob(kiln, jobId);
    const all = await connectSse(eventsUrl(jobId));
    await all.ended;
    const events = all.messages.slice(1);
    const cut = events[1]!.id!;
    const resumed = await connectSse(eventsUrl(jobId), { 'last-event-id': cut });
    await resumed.ended;
    expect(resumed.messages.slice(1).map((m) => m.id)).toEqual(events.slice(2).map((m) => m.id));
    const viaQuery = await connectSse(`${eventsUrl(jobId)}?since=${cut}`);
    await viaQuery.ended;
    expect(viaQuery.messages.slice(1).map((m) => m.id)).toEqual(events.slice(2).map((m) => m.id));
  });

  it('unknown job → 404 JSON, bad Last-Event-ID → 400', async () => {
    const res = await kiln.api('GET', `${jobsPath()}/00000000-0000-4000-8000-000000000000/events`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('job_not_found');
    const jobId = await submit('test-slow', { ms: 0, steps: 1 });
    const bad = await kiln.api('GET', `${jobsPath()}/${jobId}/events`, undefined, { 'last-event-id': 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });
});

describe('GET /api/companies/:companyId/events', () => {
  it('streams every job of the company live and does not close', async () => {
    const sse = await connectSse(`${kiln.url}/api/companies/${kiln.companyId}/events`);
    await sse.waitFor((m) => m.event === 'snapshot');
    const a = await submit('test-slow', { ms: 0, steps: 1 });
    const b = await submit('test-slow', { ms: 0, steps: 1 });
    // Generous waits: this file may share two cores with the video and document renderer tests.
    await sse.waitFor((m) => m.event === 'content_job.done' && m.data.jobId === a, 60_000);
    await sse.waitFor((m) => m.event === 'content_job.done' && m.data.jobId === b, 60_000);
    // Still open after both ended: a keep-alive comment arrives later.
    const before = sse.comments.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(sse.comments.length).toBeGreaterThan(before);

    // Resume from the middle replays only what came after.
    // (Events come in commit order, which ids alone do not give: compare positions in the stream.)
    // The two jobs run side by side, so either may end first: resume after the first `done`
    // and expect the other's.
    const ids = sse.messages.filter((m) => m.id).map((m) => m.id!);
    const firstDone = sse.messages.find((m) => m.event === 'content_job.done')!;
    const midpoint = firstDone.id!;
    const other = firstDone.data.jobId === a ? b : a;
    sse.close();
    const resumed = await connectSse(`${kiln.url}/api/companies/${kiln.companyId}/events`, { 'last-event-id': midpoint });
    await resumed.waitFor((m) => m.event === 'content_job.done' && m.data.jobId === other, 60_000);
    const after = ids.slice(ids.indexOf(midpoint) + 1);
    expect(resumed.messages.filter((m) => m.id).map((m) => m.id).slice(0, after.length)).toEqual(after);
    expect(resumed.messages.some((m) => m.id && ids.slice(0, ids.indexOf(midpoint) + 1).includes(m.id))).toBe(false);
    resumed.close();
  });
});
