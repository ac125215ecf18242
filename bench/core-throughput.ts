/**
 * Core throughput benchmark (not a test): N concurrent clients POST trivial SVG jobs for T seconds
 * against a running Kiln, then waits for every job to finish and prints:
 *   accepted jobs/s, p50/p99 accept latency (POST → 202), p50/p99 pickup latency (queued →
 *   running, from the jobs' own createdAt/startedAt), end-to-end jobs/s (first accept → last done).
 *
 *   npm run bench:core                       # starts a throwaway `kiln serve` (embedded PostgreSQL)
 *   KILN_URL=http://127.0.0.1:3100 npm run bench:core -- --clients 32 --seconds 10
 *   npm run bench:core -- --kind noop        # the job machinery alone (bench/bench-renderers.ts)
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile, startBenchServer, type BenchServer } from './kiln-server.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '2' },
    kind: { type: 'string', default: 'image' },
    /** Accept only: `kiln serve --no-worker`, so the numbers are the API's alone. */
    'api-only': { type: 'boolean', default: false },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#0a0"/></svg>';

async function main() {
  let server: BenchServer | null = null;
  let url = process.env.KILN_URL;
  let companyId: string;
  if (url) {
    companyId = (await (await fetch(`${url}/api/companies`)).json()).items[0].id;
  } else {
    server = await startBenchServer({
      KILN_WORKER_CONCURRENCY: values.concurrency!,
      ...(values.kind === 'noop' ? { KILN_RENDERER_MODULES: fileURLToPath(new URL('./bench-renderers.ts', import.meta.url)) } : {}),
    }, values['api-only'] ? ['--no-worker'] : []);
    url = server.url;
    companyId = server.companyId;
  }
  const jobsUrl = `${url}/api/companies/${companyId}/content-jobs`;
  const job = values.kind === 'noop' ? { kind: 'bench-noop', input: {} } : { kind: 'image', input: { svg: SVG, format: 'png' } };
  const body = JSON.stringify({ ...job, sourceTaskId: `bench-${Date.now()}` });
  // Let render processes finish loading before measuring.
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_WARMUP_MS ?? 15000)));

  const acceptMs: number[] = [];
  const jobIds: string[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await fetch(jobsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = await res.json();
        if (res.status !== 202) {
          errors++;
          continue;
        }
        acceptMs.push(performance.now() - t0);
        jobIds.push(json.jobId);
      }
    }),
  );
  const acceptSeconds = (performance.now() - start) / 1000;

  if (values['api-only']) {
    acceptMs.sort((a, b) => a - b);
    console.log(`api only (no worker): clients=${CLIENTS} seconds=${SECONDS}`);
    console.log(`accepted: ${jobIds.length} jobs (${errors} errors), ${(jobIds.length / acceptSeconds).toFixed(1)} jobs/s`);
    console.log(`accept latency: p50 ${percentile(acceptMs, 50).toFixed(1)} ms, p99 ${percentile(acceptMs, 99).toFixed(1)} ms`);
    await server?.stop();
    return;
  }

  // Wait for the queue to drain (two one-row queries, so the polling itself costs the server
  // next to nothing), then read every job's timestamps back through the API once.
  const task = JSON.parse(body).sourceTaskId;
  const pending = async (status: string) =>
    (await (await fetch(`${jobsUrl}?limit=1&status=${status}&sourceTaskId=${task}`)).json()).items.length > 0;
  while ((await pending('queued')) || (await pending('running'))) await new Promise((r) => setTimeout(r, 500));
  const byId = new Map<string, any>();
  let cursor: string | null = null;
  do {
    const res: any = await (await fetch(`${jobsUrl}?limit=200&sourceTaskId=${task}${cursor ? `&cursor=${cursor}` : ''}`)).json();
    for (const j of res.items) byId.set(j.id, j);
    cursor = res.nextCursor;
  } while (cursor);
  const jobs = [...byId.values()];
  const done = jobs.filter((j) => j.status === 'done');
  const pickup = jobs.filter((j) => j.startedAt).map((j) => Date.parse(j.startedAt) - Date.parse(j.createdAt)).sort((a, b) => a - b);
  const firstCreated = Math.min(...jobs.map((j) => Date.parse(j.createdAt)));
  const lastFinished = Math.max(...done.map((j) => Date.parse(j.finishedAt)));
  acceptMs.sort((a, b) => a - b);

  // Pickup on an idle queue: one job at a time, so the number is the LISTEN/NOTIFY wake-up and
  // claim, not the time spent waiting behind a backlog.
  const idlePickup: number[] = [];
  for (let i = 0; i < 30; i++) {
    const created = await (await fetch(jobsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
    let j: any;
    do {
      await new Promise((r) => setTimeout(r, 20));
      j = await (await fetch(`${jobsUrl}/${created.jobId}`)).json();
    } while (!['done', 'failed', 'canceled'].includes(j.status));
    idlePickup.push(Date.parse(j.startedAt) - Date.parse(j.createdAt));
  }
  idlePickup.sort((a, b) => a - b);

  const fmt = (n: number) => n.toFixed(1);
  console.log(`kind=${values.kind} clients=${CLIENTS} seconds=${SECONDS} workerConcurrency=${values.concurrency}`);
  console.log(`accepted: ${jobIds.length} jobs (${errors} errors), ${fmt(jobIds.length / acceptSeconds)} jobs/s`);
  console.log(`accept latency: p50 ${fmt(percentile(acceptMs, 50))} ms, p99 ${fmt(percentile(acceptMs, 99))} ms`);
  console.log(`pickup latency under load (queued → running, includes backlog): p50 ${fmt(percentile(pickup, 50))} ms, p99 ${fmt(percentile(pickup, 99))} ms`);
  console.log(`pickup latency idle (30 jobs one at a time): p50 ${fmt(percentile(idlePickup, 50))} ms, p99 ${fmt(percentile(idlePickup, 99))} ms`);
  console.log(`end to end: ${done.length}/${jobs.length} done, ${fmt(done.length / ((lastFinished - firstCreated) / 1000))} jobs/s`);
  await server?.stop();
}

await main();
