/**
 * How fast one worker drains a backlog of no-op jobs (not a test): N jobs are inserted straight
 * into the queue, then a worker-only Kiln (in this process, embedded PostgreSQL with fsync on)
 * runs them; prints jobs/s and the run time per job (claimed → done).
 *
 *   npx tsx bench/worker-drain.ts [slots=2] [jobs=1000]
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDatabase, startEmbeddedPostgres } from '@kiln/db';
import { loadConfig } from '../server/src/config.js';
import { startKiln } from '../server/src/runtime.js';

const dir = await mkdtemp(path.join(tmpdir(), 'kiln-prof-'));
const pg = await startEmbeddedPostgres(dir);
const url = await ensureDatabase(pg.url, 'prof');
process.env.BENCH_SLOTS = process.argv[2] ?? '2';
const config = loadConfig({ KILN_PORT: '0', KILN_DATA_DIR: path.join(dir, 'data'), DATABASE_URL: url, KILN_LOG_LEVEL: 'warn' });
const kiln = await startKiln(config, { rendererModules: [pathToFileURL(fileURLToPath(new URL('./bench-renderers.ts', import.meta.url))).href], worker: false });
const companyId = kiln.defaultCompanyId!;
const N = Number(process.argv[3] ?? 1000);
const t0 = performance.now();
const { rows } = await kiln.database.pool.query(`SELECT count(*) FROM content_jobs`);
// Insert N jobs directly (the accept path is not what is profiled here).
await kiln.database.pool.query(
  `WITH j AS (INSERT INTO content_jobs (company_id, kind, input, timeout_ms) SELECT $1, 'bench-noop', '{}', 60000 FROM generate_series(1, $2) RETURNING id, company_id)
   INSERT INTO content_job_events (company_id, job_id, type, payload) SELECT company_id, id, 'content_job.queued', '{}' FROM j`,
  [companyId, N],
);
console.log('inserted', N, 'in', Math.round(performance.now() - t0), 'ms', rows[0]);
await kiln.stop();
// Now a worker-only Kiln drains them.
const w = await startKiln(config, { rendererModules: [pathToFileURL(fileURLToPath(new URL('./bench-renderers.ts', import.meta.url))).href], api: false });
const t1 = performance.now();
for (;;) {
  const { rows: left } = await w.database.pool.query(`SELECT count(*)::int AS n FROM content_jobs WHERE status IN ('queued','running')`);
  if (left[0].n === 0) break;
  await new Promise((r) => setTimeout(r, 20));
}
const s = (performance.now() - t1) / 1000;
console.log(`drained ${N} in ${s.toFixed(2)} s: ${(N / s).toFixed(0)} jobs/s`);
const { rows: st } = await w.database.pool.query(`SELECT
  avg(extract(epoch FROM finished_at - started_at) * 1000)::int AS run_ms,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)::int AS run_p50,
  (SELECT count(*) FROM content_job_events) AS events
  FROM content_jobs`);
console.log(st[0]);
const { rows: ev } = await w.database.pool.query(`SELECT type, count(*)::int FROM content_job_events GROUP BY type`);
console.log(ev);

await w.stop();
await pg.stop();
