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

export interface CompanySlots {
  companyId: string;
  maxConcurrent: number;
  running: number;
}

export interface JobsAhead {
  companyId: string;
  runAt: Date;
  /** Jobs running now, every company. */
  runningTotal: number;
  /** The jobs ahead, by company and kind, with what each company may still start. */
  groups: ({ companyId: string; kind: string; n: number } & Omit<CompanySlots, 'companyId'>)[];
  /** Rows read (at most `limit`): when it equals `limit`, there may be more jobs ahead. */
  counted: number;
}

/**
 * The queued jobs a claim would take before this one, in claim order (`claimQueuedJobs`:
 * priority DESC, run_at, id, due jobs only): every due queued job of higher priority, and those
 * of equal priority queued earlier. Two range scans of `content_jobs_queue_idx` (`priority > p`,
 * and `priority = p AND (run_at, id) < (r, i)`), together at most `limit` rows, so the cost
 * follows the position (bounded), never the jobs behind it. Null when the job is not queued.
 */
export async function findJobsAhead(q: Queryable, jobId: string, limit: number): Promise<JobsAhead | null> {
  const { rows } = await q.query<JobsAhead>(
    `WITH me AS MATERIALIZED (
       SELECT company_id, priority, run_at, id FROM content_jobs WHERE id = $1 AND status = 'queued'
     ), ahead AS MATERIALIZED (
       SELECT * FROM (
         (SELECT k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority > (SELECT priority FROM me) AND k.run_at <= now())
         UNION ALL
         (SELECT k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority = (SELECT priority FROM me)
            AND (k.run_at, k.id) < ((SELECT run_at FROM me), (SELECT id FROM me)) AND k.run_at <= now())
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

/**
 * The queue up to the last of a set of jobs, summarised: `segment` s holds what lies after the
 * s-th of those jobs (in claim order) up to and including the (s+1)-th. A row with `id` null
 * counts the *due* other jobs of one company and kind in the segment; a row with an `id` is one
 * of the jobs asked about (it ends its segment).
 */
export interface QueueSegmentRow {
  segment: number;
  companyId: string;
  kind: string;
  n: number;
  id: string | null;
  runAt: Date | null;
  due: boolean;
}

/**
 * The queue in claim order, from its head to the last of `jobIds` (at most `limit` rows read),
 * folded into segments between those jobs (see QueueSegmentRow): one pass over it gives the
 * position of every one of them (jobsAheadInQueue), so a process that follows many queued jobs
 * reads the queue once per round, not once per job, and gets back a few rows per job rather
 * than the queue. Two range scans of `content_jobs_queue_idx` bounded by the last job asked
 * about, as in findJobsAhead; due jobs only, plus the jobs asked about whether due or not.
 */
export async function listQueueUpTo(q: Queryable, jobIds: string[], limit: number): Promise<QueueSegmentRow[]> {
  const { rows } = await q.query<QueueSegmentRow>(
    `WITH last AS MATERIALIZED (
       SELECT priority, run_at, id FROM content_jobs WHERE id = ANY($1::uuid[]) AND status = 'queued'
       ORDER BY priority, run_at DESC, id DESC LIMIT 1
     ), upto AS (
       SELECT * FROM (
         (SELECT k.priority, k.run_at, k.id, k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority > (SELECT priority FROM last) AND (k.run_at <= now() OR k.id = ANY($1::uuid[])))
         UNION ALL
         (SELECT k.priority, k.run_at, k.id, k.company_id, k.kind FROM content_jobs k
          WHERE k.status = 'queued' AND k.priority = (SELECT priority FROM last)
            AND (k.run_at, k.id) <= ((SELECT run_at FROM last), (SELECT id FROM last)) AND (k.run_at <= now() OR k.id = ANY($1::uuid[])))
       ) a ORDER BY priority DESC, run_at, id LIMIT $2
     ), marked AS (
       SELECT company_id, kind, run_at, run_at <= now() AS due, CASE WHEN id = ANY($1::uuid[]) THEN id END AS followed,
              count(*) FILTER (WHERE id = ANY($1::uuid[])) OVER (ORDER BY priority DESC, run_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS segment
       FROM upto
     )
     -- One grouping: a followed job is a group of its own (its id), the others are counted.
     SELECT segment::int, company_id AS "companyId", kind, count(*) FILTER (WHERE due)::int AS n, followed AS id,
            CASE WHEN followed IS NOT NULL THEN min(run_at) END AS "runAt", bool_and(due) AS due
     FROM marked GROUP BY segment, company_id, kind, followed
     HAVING followed IS NOT NULL OR count(*) FILTER (WHERE due) > 0
     ORDER BY 1, 5 NULLS FIRST`,
    [jobIds, limit],
  );
  return rows;
}

/** Each company's `max_concurrent_jobs` and running jobs, and the jobs running in all (the running partial index). */
export async function readCompanySlots(q: Queryable, companyIds: string[]): Promise<{ runningTotal: number; companies: CompanySlots[] }> {
  const { rows } = await q.query<{ runningTotal: number; companies: CompanySlots[] }>(
    `WITH running AS (SELECT company_id, count(*)::int AS n FROM content_jobs WHERE status = 'running' GROUP BY company_id)
     SELECT (SELECT coalesce(sum(n), 0)::int FROM running) AS "runningTotal",
            coalesce((SELECT json_agg(json_build_object('companyId', c.id, 'maxConcurrent', c.max_concurrent_jobs, 'running', coalesce(r.n, 0)))
                      FROM companies c LEFT JOIN running r ON r.company_id = c.id WHERE c.id = ANY($1::uuid[])), '[]'::json) AS companies`,
    [companyIds],
  );
  return rows[0]!;
}
