import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { registeredRoutes } from './support/registered-routes.js';
import { mapLimit } from './support/raw-http.js';
import { startTestKiln, svgOf, type TestKiln } from './support/test-kiln.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { childProcesses, isAlive, judge, residentMiB, seeded, send, type Answer, type HostileRequest } from './support/hostile-http.js';
import {
  authRequests,
  crossTenantRequests,
  headerRequests,
  localTrustedExtras,
  malformedHttpRequests,
  pathParameterRequests,
  queryRequests,
  type HostileContext,
} from './support/hostile-inputs.js';
import { badJsonRequests, bombRequests, hugeRequests, schemaRequests, unicodeRequests, uploadRequests } from './support/hostile-bodies.js';

/**
 * Security item 8: thousands of generated bad requests — from the router's route list and the
 * OpenAPI document — against one real Kiln in `authenticated` mode (and a smaller run against
 * `local_trusted`). Whatever is sent: no 5xx, every 4xx is `{ error: { code, message, details? } }`
 * with a registered code, the server answers /api/health after every batch, this process's
 * resident memory (the Kiln runs in it) stays under RSS_BOUND_MIB, and afterwards the render and
 * validation processes (children) still render a real job of every kind. Every bomb is refused
 * at submit with `details` naming the path, and for a cap its limit and actual value.
 */

/**
 * Resident memory this process may reach. It holds vitest, the Kiln (Fastify, pools, event hub)
 * and the generated requests (a few 5 MiB bodies at a time, and strings up to 4 MiB); it starts
 * about 130 MiB before the Kiln starts and peaks near 600 MiB here. Buffering every body, or keeping
 * what was sent, would pass it.
 */
const RSS_BOUND_MIB = 1024;
const MAX_UPLOAD_BYTES = 256 * 1024;
const CONCURRENCY = 8;
const SEED = 20_261_208;

interface Tally {
  sent: number;
  statuses: Map<number, number>;
}
const tallies = new Map<string, Tally>();
const problems: string[] = [];
let slowest = { ms: 0, label: '' };
let largest = { bytes: 0, label: '' };
let rssHigh = 0;
let rssAtStart = 0;
let total = 0;
/** Inputs over a cap that the time budget refused before the cap check answered (a busy machine). */
const budgetRefusals: string[] = [];
/** Every answer, one line each, written to $HOSTILE_ANSWERS_FILE when it is set (for looking into a failure). */
const answersLog: string[] = [];

function record(req: HostileRequest, a: Answer, run: string) {
  const key = `${run}: ${req.category}`;
  const t = tallies.get(key) ?? { sent: 0, statuses: new Map() };
  t.sent++;
  t.statuses.set(a.status, (t.statuses.get(a.status) ?? 0) + 1);
  tallies.set(key, t);
  total++;
  if (a.ms > slowest.ms) slowest = { ms: a.ms, label: `${run}: ${req.category}: ${req.label} → ${a.status}` };
  if (a.status >= 400 && a.text.length > largest.bytes) largest = { bytes: a.text.length, label: `${run}: ${req.category}: ${req.label} → ${a.status}` };
  if (process.env.HOSTILE_ANSWERS_FILE) answersLog.push(`${Math.round(a.ms)}ms ${a.status} [${run}: ${req.category}] ${req.label.slice(0, 100)} → ${a.text.slice(0, 160)}`);
  // Refused all the same, by the time budget, before the cap check could say which cap: held to
  // the rules of a refusal (400, a path), and listed.
  const overBudget = req.expect?.cap && /too complex/.test(a.json?.error?.message ?? '');
  if (overBudget) budgetRefusals.push(`${req.label} (${Math.round(a.ms)} ms)`);
  for (const p of judge(overBudget ? { ...req, expect: { refused: true } } : req, a)) problems.push(`[${run}: ${req.category}] ${req.method} ${req.label.slice(0, 160)}: ${p}`);
}

/** Sends one batch with bounded concurrency, then asks /api/health: the server must still answer. */
async function runBatch(kiln: TestKiln, run: string, requests: HostileRequest[], concurrency = CONCURRENCY) {
  const port = Number(new URL(kiln.url).port);
  await mapLimit(requests, concurrency, async (req) => record(req, await send(port, req), run));
  const health = await send(port, { category: 'health', label: 'after a batch', method: 'GET', path: '/api/health' });
  expect(health.status, `/api/health after ${requests[0]?.category}`).toBe(200);
  rssHigh = Math.max(rssHigh, residentMiB());
}

function printTable() {
  const rows = [...tallies.entries()].map(([category, t]) => ({
    category,
    sent: t.sent,
    statuses: [...t.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s || 'none'}×${n}`).join(' '),
  }));
  const width = Math.max(...rows.map((r) => r.category.length));
  const lines = rows.map((r) => `${r.category.padEnd(width)}  ${String(r.sent).padStart(5)}  ${r.statuses}`);
  console.log(
    [
      `hostile input: ${total} requests`,
      `${'category'.padEnd(width)}   sent  statuses`,
      ...lines,
      `slowest answer: ${Math.round(slowest.ms)} ms (${slowest.label.slice(0, 200)})`,
      `largest refusal: ${largest.bytes} characters (${largest.label.slice(0, 200)})`,
      `refused by the validation time budget before their cap answered: ${budgetRefusals.length ? budgetRefusals.join('; ') : 'none'}`,
      `RSS at the start: ${Math.round(rssAtStart)} MiB; high-water (sampled every 100 ms): ${Math.round(rssHigh)} MiB (bound ${RSS_BOUND_MIB} MiB); VmHWM of the process: ${Math.round(residentMiB('VmHWM'))} MiB`,
    ].join('\n'),
  );
}

const cheapSvg = svgOf('#0ea5e9', 16, 16);
let kiln: TestKiln;
let receiver: WebhookReceiver;
let ctx: HostileContext;
let png: Buffer;
let sampler: NodeJS.Timeout;
let childrenBefore: Map<number, string>;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A job rendered to the end through the API (Prefer: wait), as `key`. */
async function renderedJob(k: TestKiln, companyId: string, body: object, headers: Record<string, string>) {
  const res = await k.api('POST', `/api/companies/${companyId}/content-jobs`, body, { ...headers, prefer: 'wait=60' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body.error)).toBe('done');
  return res.body;
}

beforeAll(async () => {
  rssAtStart = residentMiB();
  sampler = setInterval(() => (rssHigh = Math.max(rssHigh, residentMiB())), 100);
  sampler.unref();
  png = await sharp({ create: { width: 40, height: 30, channels: 4, background: '#e11d48' } }).png().toBuffer();
  receiver = await startWebhookReceiver();
  kiln = await startTestKiln({
    KILN_DEPLOYMENT_MODE: 'authenticated',
    MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    // Thousands of requests from one address and three keys: the limiter must not be what answers.
    KILN_RATE_LIMIT_PER_SECOND: '1000000',
    KILN_VALIDATION_PROCESSES: '2',
    // The machine is shared (load averages past 10 are common): the caps, not the wall-clock
    // budget of a check, should be what refuses a bomb. (Budget refusals are counted below.)
    KILN_VALIDATION_BUDGET_MS: '10000',
    // The fixture job's webhook goes to a receiver on loopback.
    KILN_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  const companies = companyService(kiln.database.pool);
  const keys = apiKeyService(kiln.database.pool);
  const acme = (await companies.create({ name: 'Acme' })).id;
  const globex = (await companies.create({ name: 'Globex' })).id;
  const admin = (await keys.create({ companyId: null, name: 'admin' })).key;
  const acmeKey = (await keys.create({ companyId: acme, name: 'acme' })).key;
  const globexKey = (await keys.create({ companyId: globex, name: 'globex' })).key;
  const revoked = await keys.create({ companyId: acme, name: 'revoked' });
  await keys.revoke(revoked.id);

  const acmeJob = await renderedJob(kiln, acme, { kind: 'image', input: { mode: 'svg', svg: cheapSvg }, sourceTaskId: 'hostile-fixture', webhookUrl: `${receiver.url}/hook` }, bearer(acmeKey));
  const globexJob = await renderedJob(kiln, globex, { kind: 'image', input: { mode: 'svg', svg: cheapSvg }, sourceTaskId: 'globex-fixture' }, bearer(globexKey));
  const upload = await fetch(`${kiln.url}/api/companies/${acme}/assets?filename=logo.png`, {
    method: 'POST',
    body: new Uint8Array(png),
    headers: { 'content-type': 'image/png', ...bearer(acmeKey) },
  });
  expect(upload.status).toBe(201);
  let deliveryId = '';
  for (let i = 0; i < 200 && !deliveryId; i++) {
    const res = await kiln.api('GET', `/api/companies/${acme}/content-jobs/${acmeJob.id}/webhook-deliveries`, undefined, bearer(acmeKey));
    deliveryId = res.body.items?.[0]?.id ?? '';
    if (!deliveryId) await new Promise((r) => setTimeout(r, 50));
  }
  expect(deliveryId).not.toBe('');
  const asset = acmeJob.output;
  ctx = {
    routes: registeredRoutes(kiln.app!),
    openapi: (await kiln.api('GET', '/api/openapi.json')).body,
    mode: 'authenticated',
    keys: { admin, acme: acmeKey, globex: globexKey, revoked: revoked.key },
    ids: {
      acme,
      globex,
      acmeJob: acmeJob.id,
      acmeAsset: asset.id,
      acmeDelivery: String(deliveryId),
      globexJob: globexJob.id,
      globexAsset: globexJob.output.id,
    },
    asset: { size: asset.byteSize, etag: `"${asset.sha256}"` },
    cheapSvg,
  };
  childrenBefore = childProcesses();
}, 120_000);

afterAll(async () => {
  clearInterval(sampler);
  printTable();
  if (process.env.HOSTILE_ANSWERS_FILE) (await import('node:fs')).writeFileSync(process.env.HOSTILE_ANSWERS_FILE, answersLog.join('\n'));
  await kiln?.cleanup();
  await receiver?.close();
});

describe('hostile input', () => {
  it('authenticated: thousands of generated bad requests on every route get a 4xx in the documented shape, never a 5xx', async () => {
    const rnd = seeded(SEED);
    const run = 'authenticated';
    const batches: [HostileRequest[], number?][] = [
      [pathParameterRequests(ctx, rnd)],
      [crossTenantRequests(ctx)],
      [authRequests(ctx, rnd)],
      [queryRequests(ctx)],
      [headerRequests(ctx)],
      [badJsonRequests(ctx)],
      [schemaRequests(ctx)],
      // Bodies of up to 5 MiB and 100,000 levels: fewer at a time.
      [hugeRequests(ctx), 4],
      [unicodeRequests(ctx)],
      [uploadRequests(ctx, png, MAX_UPLOAD_BYTES), 4],
      // Bombs go through the validation processes (2 of them): more in flight would only queue, and
      // a check that waits behind others on two busy cores can pass the time budget.
      [bombRequests(ctx), 2],
      [malformedHttpRequests(ctx)],
    ];
    for (const [requests, concurrency] of batches) await runBatch(kiln, run, requests, concurrency);

    expect(total).toBeGreaterThanOrEqual(2000);
    const own = problems.filter((p) => p.startsWith(`[${run}`));
    expect(own.slice(0, 60), `${own.length} problems`).toEqual([]);
    expect(rssHigh).toBeLessThan(RSS_BOUND_MIB);
  }, 240_000);

  it('nothing but the few valid requests was queued, and each of those ran to an end and downloads', async () => {
    const acme = ctx.ids.acme;
    const headers = bearer(ctx.keys.admin);
    // The accepted jobs are the few valid ones sent on purpose (odd Prefer and Idempotency-Key
    // headers, odd Unicode names): every one must end, and none may be a bomb's kind and input.
    const deadline = Date.now() + 90_000;
    let jobs: any[] = [];
    for (;;) {
      jobs = [];
      let cursor: string | null = null;
      do {
        const page: any = await kiln.api('GET', `/api/companies/${acme}/content-jobs?limit=200${cursor ? `&cursor=${cursor}` : ''}`, undefined, headers);
        expect(page.status).toBe(200);
        jobs.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      if (jobs.every((j) => ['done', 'failed', 'canceled'].includes(j.status)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(jobs.filter((j) => !['done', 'failed', 'canceled'].includes(j.status)).map((j) => `${j.id} ${j.status}`)).toEqual([]);
    expect(jobs.filter((j) => j.kind !== 'image').map((j) => `${j.kind} ${JSON.stringify(j).slice(0, 200)}`)).toEqual([]);
    for (const job of jobs.filter((j) => j.status === 'done')) {
      for (const asset of job.assets) {
        const res = await fetch(`${kiln.url}${asset.url}`, { headers });
        expect(res.status, `${asset.filename}`).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBe(asset.byteSize);
      }
    }
  }, 120_000);

  it('local_trusted: a smaller run, with Host and Origin oddities', async () => {
    const local = await startTestKiln({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), KILN_VALIDATION_PROCESSES: '1' });
    try {
      const port = Number(new URL(local.url).port);
      const job = await renderedJob(local, 'default', { kind: 'image', input: { mode: 'svg', svg: cheapSvg } }, {});
      const other = await local.api('POST', '/api/companies', { name: 'Other' });
      const otherJob = await renderedJob(local, other.body.id, { kind: 'image', input: { mode: 'svg', svg: cheapSvg } }, {});
      const localCtx: HostileContext = {
        ...ctx,
        mode: 'local_trusted',
        routes: registeredRoutes(local.app!),
        ids: {
          acme: local.companyId,
          globex: other.body.id,
          acmeJob: job.id,
          acmeAsset: job.output.id,
          acmeDelivery: '1',
          globexJob: otherJob.id,
          globexAsset: otherJob.output.id,
        },
        asset: { size: job.output.byteSize, etag: `"${job.output.sha256}"` },
      };
      const rnd = seeded(SEED + 1);
      const sample = (requests: HostileRequest[], share: number) => requests.filter(() => rnd.next() < share);
      const run = 'local_trusted';
      const batches: HostileRequest[][] = [
        localTrustedExtras(localCtx, port),
        sample(pathParameterRequests(localCtx, rnd), 0.15),
        sample(queryRequests(localCtx), 0.1),
        sample(badJsonRequests(localCtx), 0.15),
        sample(schemaRequests(localCtx), 0.1),
        sample(unicodeRequests(localCtx), 0.3),
        sample(bombRequests(localCtx), 0.25),
        malformedHttpRequests(localCtx),
      ];
      const before = total;
      for (const requests of batches) await runBatch(local, run, requests, 4);
      expect(total - before).toBeGreaterThanOrEqual(300);
      const own = problems.filter((p) => p.startsWith(`[${run}`));
      expect(own.slice(0, 60), `${own.length} problems`).toEqual([]);
    } finally {
      await local.cleanup();
    }
  }, 180_000);

  it('afterwards the render and validation processes still work: every kind renders its example', async () => {
    const examples = Object.entries<any>(ctx.openapi.components.schemas)
      .filter(([name]) => /^Create\w+JobBody$/.test(name))
      .map(([, schema]) => schema.examples[0]);
    expect(examples.map((e) => e.kind).sort()).toEqual(['chart', 'document', 'image', 'speech', 'video']);
    // Each goes through a validation process (preflight) and a render process.
    for (const body of examples) await renderedJob(kiln, ctx.ids.acme, body, bearer(ctx.keys.acme));
    // Processes that were killed (a check over its time budget) were replaced, not leaked.
    const now = childProcesses();
    const renderers = (m: Map<number, string>) => [...m.entries()].filter(([, cmd]) => cmd.includes('node')).map(([pid]) => pid);
    expect(renderers(now).every(isAlive)).toBe(true);
    expect(renderers(now).length).toBeLessThanOrEqual(renderers(childrenBefore).length + 2);
    console.log(`child processes: ${childrenBefore.size} before the run, ${now.size} after; replaced: ${[...childrenBefore.keys()].filter((p) => !now.has(p)).length}`);
  }, 180_000);
});
