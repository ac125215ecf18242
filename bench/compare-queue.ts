/**
 * Kiln's job path beside graphile-worker 0.17.3 and a bare Fastify insert, in one run, on one
 * embedded PostgreSQL (fsync on, as in production), with the load generator in this process and
 * each server in a child process. Prints a table and the ratios of the goals:
 *
 *   - no-op jobs end to end: Kiln ≥ 1.0 × graphile-worker at the same number of job slots;
 *   - accept latency (p99) within 1.1 × the bare insert with the API alone, ≤ 1.3 × with the
 *     in-process worker busy;
 *   - pickup p50 < 10 ms on an idle queue.
 *
 *   npx tsx bench/compare-queue.ts [--clients 32] [--seconds 10] [--slots 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { ensureDatabase, startEmbeddedPostgres } from '@kiln/db';
import { percentile, startBenchServer } from './kiln-server.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    slots: { type: 'string', default: '2' },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const SLOTS = Number(values.slots);

interface LoadResult {
  accepted: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Jobs per second from the first accept until the queue was empty (when measured). */
  endToEnd?: number;
}

/** CLIENTS concurrent loops calling `submit` for SECONDS; then (optionally) waits until `drained()`. */
async function load(submit: () => Promise<boolean>, drained?: () => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if (await submit()) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const acceptSeconds = (performance.now() - start) / 1000;
  let endToEnd: number | undefined;
  if (drained) {
    while (!(await drained())) await new Promise((r) => setTimeout(r, 20));
    endToEnd = latencies.length / ((performance.now() - start) / 1000);
  }
  latencies.sort((a, b) => a - b);
  return { accepted: latencies.length, errors, perSecond: latencies.length / acceptSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), endToEnd };
}

async function countRows(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0].n);
  } finally {
    await c.end();
  }
}

async function graphileWorker(url: string): Promise<LoadResult> {
  const quiet = new Logger(() => () => undefined);
  const runner = await run({ connectionString: url, concurrency: SLOTS, noHandleSignals: true, pollInterval: 2000, logger: quiet, taskList: { noop: async () => undefined } });
  const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
  const probe = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await load(
      async () => {
        await utils.addJob('noop', {});
        return true;
      },
      async () => Number((await probe.query(`SELECT count(*) AS n FROM graphile_worker.jobs`)).rows[0].n) === 0,
    );
  } finally {
    await probe.end();
    await utils.release();
    await runner.stop();
  }
}

async function startBareServer(url: string): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./bare-insert-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

const post = (url: string, body: string) => async () => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status === 202;
};

/** The default cap (10,000 queued) would turn a long run's backlog into 429s. */
async function raiseQueueCap(url: string, companyId: string) {
  await fetch(`${url}/api/companies/${companyId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ maxQueuedJobs: 1_000_000 }) });
}

async function idlePickup(jobsUrl: string, body: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const created = await (await fetch(jobsUrl, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'wait=10' }, body })).json();
    times.push(Date.parse(created.startedAt) - Date.parse(created.createdAt));
  }
  return percentile(times.sort((a, b) => a - b), 50);
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-compare-'));
  const postgres = await startEmbeddedPostgres(dir);
  const modules = fileURLToPath(new URL('./bench-renderers.ts', import.meta.url));
  const rows: [string, string, string][] = [];
  try {
    const gwUrl = await ensureDatabase(postgres.url, 'gw');
    const gw = await graphileWorker(gwUrl);
    rows.push([`graphile-worker 0.17.3 (addJob, ${SLOTS} slots)`, `${gw.endToEnd!.toFixed(0)} jobs/s`, `${gw.p50.toFixed(1)} / ${gw.p99.toFixed(1)} ms`]);

    const bare = await startBareServer(await ensureDatabase(postgres.url, 'bare'));
    const bareLoad = await load(post(`${bare.url}/jobs`, JSON.stringify({ kind: 'noop', input: {} })));
    bare.child.kill('SIGTERM');
    rows.push(['bare Fastify + INSERT … RETURNING (accept only)', '—', `${bareLoad.p50.toFixed(1)} / ${bareLoad.p99.toFixed(1)} ms at ${bareLoad.perSecond.toFixed(0)} req/s`]);

    const noopBody = JSON.stringify({ kind: 'bench-noop', input: {} });
    const apiOnly = await startBenchServer({ DATABASE_URL: await ensureDatabase(postgres.url, 'kiln_api'), KILN_RENDERER_MODULES: modules }, ['--no-worker']);
    await raiseQueueCap(apiOnly.url, apiOnly.companyId);
    const apiLoad = await load(post(`${apiOnly.url}/api/companies/${apiOnly.companyId}/content-jobs`, noopBody));
    await apiOnly.stop();
    rows.push(['Kiln, API alone (--no-worker)', '—', `${apiLoad.p50.toFixed(1)} / ${apiLoad.p99.toFixed(1)} ms at ${apiLoad.perSecond.toFixed(0)} req/s`]);

    const kilnUrl = await ensureDatabase(postgres.url, 'kiln_full');
    const kiln = await startBenchServer({ DATABASE_URL: kilnUrl, KILN_RENDERER_MODULES: modules, BENCH_SLOTS: String(SLOTS) });
    const jobsUrl = `${kiln.url}/api/companies/${kiln.companyId}/content-jobs`;
    await raiseQueueCap(kiln.url, kiln.companyId);
    const kilnLoad = await load(post(jobsUrl, noopBody), async () =>
      (await countRows(kilnUrl, `SELECT count(*) AS n FROM content_jobs WHERE status IN ('queued', 'running')`)) === 0,
    );
    const pickup = await idlePickup(jobsUrl, noopBody);
    await kiln.stop();
    rows.push([`Kiln, API + in-process worker (no-op, ${SLOTS} slots)`, `${kilnLoad.endToEnd!.toFixed(0)} jobs/s`, `${kilnLoad.p50.toFixed(1)} / ${kilnLoad.p99.toFixed(1)} ms`]);

    console.log(`clients=${CLIENTS} seconds=${SECONDS} slots=${SLOTS}\n`);
    console.log('| | end to end | accept p50 / p99 |\n|---|---|---|');
    for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
    console.log('');
    console.log(`no-op end to end, Kiln / graphile-worker: ${(kilnLoad.endToEnd! / gw.endToEnd!).toFixed(2)}× (goal ≥ 1.0)`);
    console.log(`accept p99, Kiln API alone / bare insert: ${(apiLoad.p99 / bareLoad.p99).toFixed(2)}× (goal ≤ 1.1)`);
    console.log(`accept p99, Kiln with worker busy / bare insert: ${(kilnLoad.p99 / bareLoad.p99).toFixed(2)}× (goal ≤ 1.3)`);
    console.log(`pickup p50 on an idle queue: ${pickup.toFixed(1)} ms (goal < 10)`);
    const errors = gw.errors + bareLoad.errors + apiLoad.errors + kilnLoad.errors;
    if (errors > 0) console.log(`errors: ${errors}`);
  } finally {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
