/**
 * What queue position, the /metrics gauges and the stats route cost (not a test): a Kiln without a
 * worker (embedded PostgreSQL, temp data dir) gets a queue of N jobs (default 10,000) over three
 * companies and mixed priorities, plus N jobs that finished in the last ten minutes, then prints
 * per query: mean and p99 over repeated runs, and the plan PostgreSQL chose.
 *
 *   npx tsx bench/queue-position-cost.ts [queued] [runs]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/src/config.js';
import { startKiln } from '../server/src/runtime.js';
import { countActiveJobsByKind, countFinishedJobsByKind, findJobsAhead, listQueueUpTo, readCompanySlots, recentJobDurations } from '../server/src/services/jobs/queue-stats-store.js';
import { jobsAheadInQueue, QUEUE_POSITION_LIMIT } from '../server/src/services/jobs/queue-estimates.js';
import { percentile } from './kiln-server.js';

const N = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 200);

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kiln-bench-position-'));
  const kiln = await startKiln(loadConfig({ KILN_DATA_DIR: dataDir, KILN_PORT: '0', KILN_LOG_LEVEL: 'warn', KILN_VALIDATION_PROCESSES: '1' }), { worker: false });
  const pool = kiln.database.pool;
  try {
    const companies = [kiln.defaultCompanyId!];
    for (const name of ['bench-a', 'bench-b']) {
      companies.push((await pool.query<{ id: string }>(`INSERT INTO companies (name, max_concurrent_jobs) VALUES ($1, 4) RETURNING id`, [name])).rows[0]!.id);
    }
    // Queued: priorities 0 (most), 5 and 10, run_at spread over the last hour; kinds mixed.
    await pool.query(
      `INSERT INTO content_jobs (company_id, kind, input, timeout_ms, priority, run_at, created_at)
       SELECT ($1::uuid[])[1 + i % 3], (ARRAY['image','chart','document'])[1 + i % 3], '{}'::jsonb, 600000,
              CASE WHEN i % 10 = 0 THEN 10 WHEN i % 10 = 1 THEN 5 ELSE 0 END,
              now() - make_interval(secs => ($2 - i) * 0.3), now() - make_interval(secs => ($2 - i) * 0.3)
       FROM generate_series(1, $2) i`,
      [companies, N],
    );
    // History: as many jobs that ran and ended in the last ten minutes.
    await pool.query(
      `INSERT INTO content_jobs (company_id, kind, input, timeout_ms, status, attempt, started_at, finished_at, created_at)
       SELECT ($1::uuid[])[1 + i % 3], (ARRAY['image','chart','document'])[1 + i % 3], '{}'::jsonb, 600000, 'done', 1,
              now() - make_interval(secs => i * 0.06 + 0.5), now() - make_interval(secs => i * 0.06), now() - interval '11 minutes'
       FROM generate_series(1, $2) i`,
      [companies, N],
    );
    // A few running jobs, so the per-company running counts have something to count.
    await pool.query(`UPDATE content_jobs SET status = 'running', locked_by = 'w1@bench:1', heartbeat_at = now(), started_at = now()
                      WHERE id IN (SELECT id FROM content_jobs WHERE status = 'queued' ORDER BY random() LIMIT 6)`);
    await pool.query('VACUUM ANALYZE content_jobs');

    const order = (await pool.query<{ id: string }>(`SELECT id FROM content_jobs WHERE status = 'queued' ORDER BY priority DESC, run_at, id`)).rows.map((r) => r.id);
    console.log(`queue: ${order.length} queued jobs, ${N} finished in the last 10 min, 3 companies; ${RUNS} runs each\n`);

    const time = async (label: string, fn: () => Promise<unknown>) => {
      for (let i = 0; i < 10; i++) await fn(); // warm
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await fn();
        ms.push(performance.now() - t0);
      }
      const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
      console.log(`${label.padEnd(58)} mean ${mean.toFixed(2).padStart(6)} ms   p99 ${percentile(ms.sort((a, b) => a - b), 99).toFixed(2).padStart(6)} ms`);
    };
    for (const at of [0, Math.floor(order.length / 10), Math.floor(order.length / 2), order.length - 1]) {
      const id = order[at]!;
      const ahead = await findJobsAhead(pool, id, QUEUE_POSITION_LIMIT);
      await time(`findJobsAhead, claim-order index ${at} (read ${ahead!.counted} rows)`, () => findJobsAhead(pool, id, QUEUE_POSITION_LIMIT));
    }
    await time('SELECT 1 (the noise floor: a round trip)', () => pool.query('SELECT 1'));
    for (const followed of [1, 100, 1000]) {
      // Followed jobs spread evenly over the queue, the last one at its very end.
      const ids = Array.from({ length: followed }, (_, i) => order[Math.floor(((i + 1) * (order.length - 1)) / followed)]!);
      await time(`a round for ${followed} followed job(s) to the end (SSE streams)`, async () => {
        const rows = await listQueueUpTo(pool, ids, QUEUE_POSITION_LIMIT);
        const slots = await readCompanySlots(pool, [...new Set(rows.map((r) => r.companyId))]);
        return jobsAheadInQueue(rows, slots);
      });
    }
    await time('countActiveJobsByKind (the /metrics gauges)', () => countActiveJobsByKind(pool));
    await time('countActiveJobsByKind, one company (stats route)', () => countActiveJobsByKind(pool, companies[0]!));
    await time('countFinishedJobsByKind, one company (stats route)', () => countFinishedJobsByKind(pool, companies[0]!));
    await time('recentJobDurations (start estimate history; cached 5 s)', () => recentJobDurations(pool, { windowMinutes: 10, sample: 1000 }));
    const finished = (await pool.query<{ id: string; companyId: string }>(`SELECT id, company_id AS "companyId" FROM content_jobs WHERE status = 'done' LIMIT 1`)).rows[0]!;
    await time('GET a finished job (HTTP, whole request: the baseline)', () => fetch(`${kiln.url}/api/companies/${finished.companyId}/content-jobs/${finished.id}`).then((r) => r.json()));
    const job = order[order.length - 1]!;
    const owner = (await pool.query<{ c: string }>(`SELECT company_id AS c FROM content_jobs WHERE id = $1`, [job])).rows[0]!.c;
    const back = await (await fetch(`${kiln.url}/api/companies/${owner}/content-jobs/${job}`)).json();
    await time(`GET the queued job at the back (HTTP; queuePosition ${back.queuePosition})`, () => fetch(`${kiln.url}/api/companies/${owner}/content-jobs/${job}`).then((r) => r.json()));

    const explain = async (label: string, sql: string, values: unknown[]) => {
      const { rows } = await pool.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${sql}`, values);
      console.log(`\n${label}:\n${rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
    };
    const last = order[order.length - 1]!;
    await explain('plan: jobs ahead of the last queued job, the two index ranges', `SELECT * FROM (
         (SELECT k.company_id FROM content_jobs k WHERE k.status = 'queued' AND k.priority > (SELECT priority FROM content_jobs WHERE id = $1)
            AND k.run_at <= greatest(now(), (SELECT run_at FROM content_jobs WHERE id = $1)))
         UNION ALL
         (SELECT k.company_id FROM content_jobs k WHERE k.status = 'queued' AND k.priority = (SELECT priority FROM content_jobs WHERE id = $1)
            AND (k.run_at, k.id) < ((SELECT run_at FROM content_jobs WHERE id = $1), $1::uuid))) a LIMIT 10000`, [last]);
    await explain('plan: /metrics gauges', `SELECT 'queued' AS status, kind, count(*)::int AS n FROM content_jobs
     WHERE status = 'queued' AND ($1::uuid IS NULL OR company_id = $1) GROUP BY kind
     UNION ALL SELECT 'running', kind, count(*)::int FROM content_jobs WHERE status = 'running' AND ($1::uuid IS NULL OR company_id = $1) GROUP BY kind`, [null]);
  } finally {
    await kiln.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
