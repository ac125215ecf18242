import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { JobEvent } from '@kiln/shared';
import { createKilnClient, KilnApiError, type FetchLike, type JobStreamItem, type KilnClient } from '../src/index.js';
import type { TestKiln } from '../../../server/test/support/test-kiln.js';
import { startKilnWithTestKinds } from '../../../server/test/support/test-kiln-with-test-kinds.js';
import { listEventsOfJob } from '../../../server/src/services/events/event-store.js';

let kiln: TestKiln;
let client: KilnClient;
let companyId: string;
let dir: string;
/** Every request the server received for a job event stream, in order. */
const eventRequests: IncomingMessage[] = [];

beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
  companyId = kiln.companyId;
  client = createKilnClient({ baseUrl: kiln.url, reconnect: { initialDelayMs: 50 } });
  kiln.app!.server.on('request', (req: IncomingMessage) => {
    if (/\/content-jobs\/[^/]+\/events/.test(req.url ?? '')) eventRequests.push(req);
  });
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-client-test-'));
});
afterAll(async () => {
  await kiln?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const storedEvents = (jobId: string) => listEventsOfJob(kiln.database.pool, companyId, jobId);
const eventsOnly = (items: JobStreamItem[]) => items.filter((i): i is JobEvent => i.type !== 'snapshot');
const summary = (events: JobEvent[]) => events.map((e) => `${e.id}:${e.type}`);

async function collect(iterable: AsyncIterable<JobStreamItem>, onItem?: (item: JobStreamItem) => void) {
  const items: JobStreamItem[] = [];
  for await (const item of iterable) {
    items.push(item);
    onItem?.(item);
  }
  return items;
}

describe('jobs and assets', () => {
  it('creates, gets, lists every page, downloads (sha256) and cancels', async () => {
    const task = `task-${randomUUID()}`;
    const created = await Promise.all(
      [1000, 2000, 3000].map((bytes) => client.createJob(companyId, { kind: 'test-bytes', input: { bytes }, sourceTaskId: task })),
    );
    for (const c of created) expect(c).toMatchObject({ jobId: expect.any(String), status: 'queued' });

    const finals = await Promise.all(created.map((c) => client.waitForJob(companyId, c.jobId)));
    for (const job of finals) expect(job.status).toBe('done');
    const got = await client.getJob(companyId, created[0]!.jobId);
    expect(got).toMatchObject({ id: created[0]!.jobId, kind: 'test-bytes', sourceTaskId: task, status: 'done' });

    // Page size 2 over 3 jobs: the iterator must follow nextCursor to the second page.
    const pageRequests: string[] = [];
    const counting: FetchLike = (url, init) => {
      pageRequests.push(url);
      return fetch(url, init);
    };
    const listing = createKilnClient({ baseUrl: kiln.url, fetch: counting });
    const listed: string[] = [];
    for await (const job of listing.listJobs(companyId, { sourceTaskId: task, pageSize: 2 })) listed.push(job.id);
    expect(listed.sort()).toEqual(created.map((c) => c.jobId).sort());
    expect(pageRequests).toHaveLength(2);
    expect(pageRequests[1]).toMatch(/cursor=/);

    const assets: string[] = [];
    for await (const a of client.listAssets(companyId, { sourceTaskId: task, pageSize: 2 })) assets.push(a.id);
    expect(assets).toHaveLength(3);

    const job = finals.find((j) => j.id === created[2]!.jobId)!;
    const primary = job.assets.find((a) => a.role === 'primary')!;
    const asset = await client.getAsset(companyId, primary.id);
    expect(asset).toMatchObject({ id: primary.id, byteSize: 3000, jobId: job.id });

    // To a file path: the bytes land whole, with no temp file left beside them.
    const file = path.join(dir, 'bytes.bin');
    const result = await client.downloadAsset(companyId, asset.id, file);
    expect(result.byteSize).toBe(3000);
    expect(sha256(await readFile(file))).toBe(asset.sha256);
    expect(await readdir(dir)).toEqual(['bytes.bin']);

    // To a WHATWG WritableStream and to a Node Writable.
    const webHash = createHash('sha256');
    await client.downloadAsset(companyId, asset.id, new WritableStream<Uint8Array>({ write: (chunk) => void webHash.update(chunk) }));
    expect(webHash.digest('hex')).toBe(asset.sha256);
    const nodeSink = new PassThrough();
    const nodeHash = createHash('sha256');
    nodeSink.on('data', (chunk) => nodeHash.update(chunk));
    await client.downloadAsset(companyId, asset.id, nodeSink);
    expect(nodeHash.digest('hex')).toBe(asset.sha256);

    const slow = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 60_000, steps: 60 } });
    const canceled = await client.cancelJob(companyId, slow.jobId);
    expect(canceled.status === 'canceled' || canceled.cancelRequested).toBe(true);
    expect((await client.waitForJob(companyId, slow.jobId)).status).toBe('canceled');

    // The jobs above, counted: none left queued or running, and the canceled one among those ended.
    const stats = await client.getStats(companyId);
    expect(stats.totals).toMatchObject({ queued: 0, running: 0 });
    expect(stats.totals.finishedLastHour).toBeGreaterThanOrEqual(created.length + 1);
    expect(stats.kinds.find((k) => k.kind === 'test-slow')?.finishedLastHour).toBeGreaterThanOrEqual(1);
  });

  it('replays an idempotent create instead of queueing a second job', async () => {
    const key = randomUUID();
    const body = { kind: 'test-bytes', input: { bytes: 10 } };
    const a = await client.createJob(companyId, body, { idempotencyKey: key });
    const b = await client.createJob(companyId, body, { idempotencyKey: key });
    expect(b.jobId).toBe(a.jobId);
  });

  it('throws KilnApiError with the server status, code and details', async () => {
    const invalid = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 10 }, priority: 1000 }).catch((e) => e);
    expect(invalid).toBeInstanceOf(KilnApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(invalid.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: ['priority'] })]));

    const unknownKind = await client.createJob(companyId, { kind: 'no-such-kind', input: {} }).catch((e) => e);
    expect(unknownKind).toMatchObject({ status: 400, code: 'unknown_kind' });

    const missing = await client.getJob(companyId, randomUUID()).catch((e) => e);
    expect(missing).toBeInstanceOf(KilnApiError);
    expect(missing).toMatchObject({ status: 404, code: 'job_not_found', message: expect.any(String) });
    await expect(client.getAsset(companyId, randomUUID())).rejects.toMatchObject({ status: 404, code: 'asset_not_found' });
    // A job stream that can never exist is not retried.
    await expect(collect(client.events(companyId, randomUUID()))).rejects.toMatchObject({ status: 404, code: 'job_not_found' });

    const offline = createKilnClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(offline.listCompanies()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('lists renderers and companies, and creates a company', async () => {
    const kinds = (await client.listRenderers()).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['image', 'test-slow']));
    const created = await client.createCompany({ name: `acme-${randomUUID().slice(0, 6)}` });
    const companies = await client.listCompanies();
    expect(companies.map((c) => c.id)).toEqual(expect.arrayContaining([companyId, created.id]));
  });
});

describe('events', () => {
  it('yields the snapshot, then every stored event exactly once, and ends after the terminal event', async () => {
    const { jobId } = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 600, steps: 3 } });
    const items = await collect(client.events(companyId, jobId));
    expect(items[0]).toMatchObject({ type: 'snapshot', job: { id: jobId } });
    expect(items.filter((i) => i.type === 'snapshot')).toHaveLength(1);
    const events = eventsOnly(items);
    expect(summary(events)).toEqual(summary(await storedEvents(jobId)));
    expect(events.at(-1)!.type).toBe('content_job.done');
    expect(events.at(-1)!.payload).toMatchObject({ jobId, status: 'done', assetIds: [expect.any(String)] });
    expect(events[0]).toMatchObject({ companyId, jobId, createdAt: expect.any(String) });

    // Resuming after the terminal event: the snapshot (already done) and nothing else.
    const after = await collect(client.events(companyId, jobId, { lastEventId: events.at(-1)!.id }));
    expect(after).toEqual([expect.objectContaining({ type: 'snapshot', job: expect.objectContaining({ status: 'done' }) })]);
  });

  it('reconnects after the server drops the connection mid-job, losing and repeating nothing', async () => {
    const { jobId } = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 2000, steps: 8 } });
    const firstRequest = eventRequests.length;
    let dropped = false;
    const items = await collect(client.events(companyId, jobId), (item) => {
      if (!dropped && item.type === 'content_job.progress') {
        dropped = true;
        eventRequests[firstRequest]!.socket.destroy();
      }
    });
    expect(dropped).toBe(true);
    const requests = eventRequests.slice(firstRequest);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests[1]!.headers['last-event-id']).toMatch(/^\d+$/);

    const events = eventsOnly(items);
    const stored = await storedEvents(jobId);
    expect(summary(events)).toEqual(summary(stored));
    expect(stored.filter((e) => e.type === 'content_job.progress').length).toBeGreaterThan(2);
    expect(items.filter((i) => i.type === 'snapshot')).toHaveLength(1);
    expect(events.at(-1)!.type).toBe('content_job.done');
  });

  it('reconnects when a stream ends early and drops events the server sends again', async () => {
    const { jobId } = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 1600, steps: 8 } });
    let connections = 0;
    // A proxy that ends the first stream cleanly after a progress event and forgets Last-Event-ID,
    // so the server replays everything from the start on the second connection.
    const forgetful: FetchLike = async (url, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('last-event-id');
      const res = await fetch(url, { ...init, headers });
      if (!url.endsWith('/events') || connections++ > 0) return res;
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          text += decoder.decode(value, { stream: true });
          if (/event: content_job\.progress\n[^\n]*\n\n/.test(text)) {
            await reader.cancel();
            controller.close();
          }
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const proxied = createKilnClient({ baseUrl: kiln.url, fetch: forgetful, reconnect: { initialDelayMs: 50 } });
    const items = await collect(proxied.events(companyId, jobId));
    expect(connections).toBeGreaterThanOrEqual(2);
    const events = eventsOnly(items);
    expect(summary(events)).toEqual(summary(await storedEvents(jobId)));
    expect(events.at(-1)!.type).toBe('content_job.done');
  });

  it('waitForJob returns the final job, reporting each event on the way', async () => {
    const { jobId } = await client.createJob(companyId, { kind: 'test-fail', input: { code: 'render_failed' } });
    const seen: string[] = [];
    const job = await client.waitForJob(companyId, jobId, { onEvent: (e) => seen.push(e.type) });
    expect(job).toMatchObject({ id: jobId, status: 'failed', error: { code: 'render_failed' } });
    expect(seen[0]).toBe('snapshot');
    expect(seen.at(-1)).toBe('content_job.failed');
  });

  it('stops the stream when the caller breaks out or aborts', async () => {
    const { jobId } = await client.createJob(companyId, { kind: 'test-slow', input: { ms: 60_000, steps: 60 } });
    for await (const item of client.events(companyId, jobId)) {
      expect(item.type).toBe('snapshot');
      break;
    }
    const controller = new AbortController();
    const aborted = collect(client.events(companyId, jobId, { signal: controller.signal }), () => controller.abort());
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await client.cancelJob(companyId, jobId);
  });
});
