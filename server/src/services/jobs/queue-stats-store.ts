import type { Queryable } from './job-row.js';

/**
 * The read-only queries behind `/metrics`, the stats route and a queued job's position. None of
 * them runs on the accept path or in the claim: they run when someone asks (a scrape, a read of
 * a queued job, a dashboard poll), each bounded by a partial index or a LIMIT, and their callers
 * cache them for a second or more.
 */

export interface ActiveCount {
  kind: string;
  status: 'queued' | 'running';
  n: number;
}

/**
 * Queued and running jobs by kind, over every company (or one): one statement whose two halves
 * read the partial indexes `content_jobs_queue_idx` / `content_jobs_company_queued_idx` and
 * `content_jobs_running_idx`, so its cost follows the number of active jobs, never the table.
 */
export async function countActiveJobsByKind(q: Queryable, companyId: string | null = null): Promise<ActiveCount[]> {
  const { rows } = await q.query<ActiveCount>(
    `SELECT 'queued' AS status, kind, count(*)::int AS n FROM content_jobs
     WHERE status = 'queued' AND ($1::uuid IS NULL OR company_id = $1) GROUP BY kind
     UNION ALL
     SELECT 'running', kind, count(*)::int FROM content_jobs
     WHERE status = 'running' AND ($1::uuid IS NULL OR company_id = $1) GROUP BY kind`,
    [companyId],
  );
  return rows;
}

export interface FinishedCount {
  kind: string;
  lastMinute: number;
  lastHour: number;
}

/** One company's jobs that ended (done, failed or canceled) in the last minute and hour, by kind. */
export async function countFinishedJobsByKind(q: Queryable, companyId: string): Promise<FinishedCount[]> {
  const { rows } = await q.query<FinishedCount>(
    `SELECT kind,
            count(*) FILTER (WHERE finished_at > now() - interval '1 minute')::int AS "lastMinute",
            count(*)::int AS "lastHour"
     FROM content_jobs
     WHERE company_id = $1 AND finished_at > now() - interval '1 hour'
     GROUP BY kind`,
    [companyId],
  );
  return rows;
}

export interface KindDuration {
  kind: string;
  /** Jobs in the sample. */
  n: number;
  /** Their mean time from start to end, in seconds. */
  meanSeconds: number;
}

/**
 * How long jobs of each kind took lately: the most recent `sample` jobs that ran and ended
 * (done or failed) in the last `windowMinutes`, read newest first on `content_jobs_finished_idx`.
 */
export async function recentJobDurations(q: Queryable, o: { windowMinutes: number; sample: number }): Promise<KindDuration[]> {
  const { rows } = await q.query<KindDuration>(
    `SELECT kind, count(*)::int AS n, avg(extract(epoch FROM finished_at - started_at))::float8 AS "meanSeconds"
     FROM (SELECT kind, started_at, finished_at FROM content_jobs
           WHERE finished_at > now() - make_interval(mins => $1) AND status IN ('done', 'failed') AND started_at IS NOT NULL
           ORDER BY finished_at DESC LIMIT $2) recent
     GROUP BY kind`,
    [o.windowMinutes, o.sample],
  );
  return rows;
}

export interface JobsAhead {
  companyId: string;
  runAt: Date;
  /** Jobs running now, every company. */
  runningTotal: number;
  /** The jobs ahead, by company and kind, with what each company may still start. */
  groups: { companyId: string; kind: string; n: number; maxConcurrent: number; running: number }[];
  /** Rows read (at most `limit`): when it equals `limit`, there may be more jobs ahead. */
  counted: number;
}

/**
 * The queued jobs a claim would take before this one, in claim order (`claimQueuedJobs`:
 * priority DESC, run_at, id): every queued job of higher priority that is due by the time this
 * one is, and those of equal priority queued earlier. Two range scans of `content_jobs_queue_idx`
 * (`priority > p`, and `priority = p AND (run_at, id) < (r, i)`), together at most `limit` rows,
 * so the cost follows the position (bounded), never the jobs behind it. Null when the job is not
 * queued.
 */
export async function findJobsAhead(q: Queryable, jobId: string, limit: number): Promise<JobsAhead | null> {
  const { rows } = await q.query<JobsAhead>(
    `WITH me AS MATERIALIZED (
       SELECT company_id, priority, run_at, id FROM content_jobs WHERE id = $1 AND status = 'queued'
     ), ahead AS MATERIALIZED (
       SELECT * FROM (
         (SELECT k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority > (SELECT priority FROM me)
            AND k.run_at <= greatest(now(), (SELECT run_at FROM me)))
         UNION ALL
         (SELECT k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority = (SELECT priority FROM me)
            AND (k.run_at, k.id) < ((SELECT run_at FROM me), (SELECT id FROM me)))
       ) a LIMIT $2
     ), by_group AS (
       SELECT company_id, kind, count(*)::int AS n FROM ahead GROUP BY company_id, kind
     ), by_company AS (
       SELECT c.id, c.max_concurrent_jobs,
              (SELECT count(*)::int FROM content_jobs r WHERE r.status = 'running' AND r.company_id = c.id) AS running
       FROM companies c WHERE c.id IN (SELECT company_id FROM by_group)
     )
     SELECT me.company_id AS "companyId", me.run_at AS "runAt",
            (SELECT count(*)::int FROM content_jobs r WHERE r.status = 'running') AS "runningTotal",
            (SELECT count(*)::int FROM ahead) AS counted,
            coalesce((SELECT json_agg(json_build_object('companyId', g.company_id, 'kind', g.kind, 'n', g.n,
                                                        'maxConcurrent', b.max_concurrent_jobs, 'running', b.running))
                      FROM by_group g JOIN by_company b ON b.id = g.company_id), '[]'::json) AS groups
     FROM me`,
    [jobId, limit],
  );
  return rows[0] ?? null;
}
