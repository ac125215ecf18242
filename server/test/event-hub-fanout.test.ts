import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@kiln/db';
import { createEventHub, type EventHub, type EventSubscription } from '../src/services/events/event-hub.js';
import { companyService } from '../src/services/companies/company-service.js';
import { appendJobEvent, insertQueuedJob } from '../src/services/jobs/job-lifecycle.js';
import type { StoredEvent } from '../src/services/events/event-store.js';
import { createTestDatabaseUrl } from './support/test-kiln.js';

/**
 * The event hub's work per event is the event's own subscribers, not every stream the process
 * holds. Found by bench/sse-capacity.ts: with 10,000 open company streams, every event walked all
 * 10,000 subscriptions (twice more to rebuild the set of watched companies on each notification
 * and pump), so the hub's CPU grew with the number of streams until fan-out fell seconds behind.
 * Here other companies' subscriptions are proxies that count every property read: an event of
 * company A must not touch company B's.
 */
let database: Database;
let hub: EventHub;
let a: { companyId: string; jobId: string };
let b: { companyId: string; jobId: string };

async function companyWithJob(name: string) {
  const company = await companyService(database.pool).create({ name } as never);
  const inserted = await insertQueuedJob(database.pool, {
    companyId: company.id, kind: 'test-slow', input: { ms: 1 }, priority: 0, timeoutMs: 60_000, maxAttempts: 1,
    sourceTaskId: null, idempotencyKey: null, requestHash: null, webhookUrl: null, requestedBy: null, inputAssetIds: [], outputName: null,
  });
  if (inserted.outcome !== 'created') throw new Error(inserted.outcome);
  return { companyId: company.id, jobId: inserted.job.id };
}

beforeAll(async () => {
  database = createDatabase(await createTestDatabaseUrl(), { maxConnections: 4 });
  a = await companyWithJob('fan-out A');
  b = await companyWithJob('fan-out B');
  hub = createEventHub({ database });
  await hub.start();
});
afterAll(async () => {
  await hub?.stop();
  await database?.close();
});

describe('event hub fan-out', () => {
  it("an event reaches its own company's and job's subscribers without touching other companies' subscriptions", async () => {
    let reads = 0;
    const others: (() => void)[] = [];
    for (let i = 0; i < 1000; i++) {
      const sub: EventSubscription = { companyId: b.companyId, jobId: i % 2 ? b.jobId : undefined, deliver: () => undefined };
      let counting = false;
      const watched = new Proxy(sub, {
        get(target, prop, receiver) {
          if (counting) reads++;
          return Reflect.get(target, prop, receiver);
        },
      });
      others.push(hub.subscribe(watched));
      counting = true; // subscribing may read the subscription once; dispatching A's events may not
    }
    const toCompany: StoredEvent[] = [];
    const toJob: StoredEvent[] = [];
    const toOtherJob: StoredEvent[] = [];
    const unsubscribe = [
      hub.subscribe({ companyId: a.companyId, deliver: (e) => toCompany.push(e) }),
      hub.subscribe({ companyId: a.companyId, jobId: a.jobId, deliver: (e) => toJob.push(e) }),
      hub.subscribe({ companyId: a.companyId, jobId: b.jobId, deliver: (e) => toOtherJob.push(e) }),
    ];
    expect(hub.subscriberCount()).toBe(1003);

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await appendJobEvent(database.pool, { companyId: a.companyId, jobId: a.jobId, type: 'content_job.progress', payload: { status: 'queued', seq: i } }));
    }
    const deadline = Date.now() + 10_000;
    while ((toCompany.length < 5 || toJob.length < 5) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    expect(toCompany.map((e) => e.id)).toEqual(ids);
    expect(toJob.map((e) => e.id)).toEqual(ids);
    expect(toOtherJob).toEqual([]);
    expect(reads).toBe(0);

    for (const u of [...unsubscribe, ...others]) u();
    expect(hub.subscriberCount()).toBe(0);
  });
});
