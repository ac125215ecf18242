-- The claim as a function (server/src/services/jobs/job-lifecycle.ts calls it; the lifecycle
-- rules stay documented there). Why a function: the claim must read the queue *after* taking the
-- claim lock (a snapshot taken before it could miss a running job another claimer just committed,
-- and put a company past max_concurrent_jobs), and each statement of a VOLATILE plpgsql function
-- takes a fresh snapshot; PL/pgSQL also keeps the statement's plan for the session — planning
-- this statement cost more than running it. One round trip, one transaction, no re-planning.
--
-- Bitmap scans are off: with the statistics of a table whose queued share swings (a burst arrives
-- between two ANALYZEs), the planner would read every queued job into a bitmap and sort them, so
-- each claim cost as much as the backlog is long. Walking content_jobs_queue_idx in its own order
-- stops after p_limit × 8 rows whatever the statistics say.
CREATE FUNCTION kiln_claim_jobs(p_worker text, p_limit int, p_kinds text[]) RETURNS SETOF content_jobs
LANGUAGE plpgsql VOLATILE
SET enable_bitmapscan = off
AS $$
BEGIN
  IF p_limit <= 0 OR cardinality(p_kinds) = 0 THEN
    RETURN;
  END IF;
  -- Serialises claims so each company's running count is exact while slots are handed out.
  PERFORM pg_advisory_xact_lock(7412002);
  RETURN QUERY
  WITH busy AS (
    SELECT b.company_id, count(*)::int AS n FROM content_jobs b WHERE b.status = 'running' GROUP BY b.company_id
  ), full_companies AS (
    -- Companies at their limit are left out before candidates are picked, so they cannot starve others.
    SELECT b.company_id FROM busy b JOIN companies c ON c.id = b.company_id WHERE b.n >= c.max_concurrent_jobs
  ), candidates AS (
    SELECT q.id, q.company_id, q.priority, q.run_at FROM content_jobs q
    WHERE q.status = 'queued' AND q.run_at <= now() AND q.kind = ANY(p_kinds)
      AND q.company_id NOT IN (SELECT f.company_id FROM full_companies f)
    ORDER BY q.priority DESC, q.run_at, q.id
    LIMIT p_limit * 8
    FOR UPDATE SKIP LOCKED
  ), ranked AS (
    SELECT c.id, c.priority, c.run_at,
           row_number() OVER (PARTITION BY c.company_id ORDER BY c.priority DESC, c.run_at, c.id) AS rank,
           co.max_concurrent_jobs - coalesce(b.n, 0) AS free
    FROM candidates c JOIN companies co ON co.id = c.company_id LEFT JOIN busy b ON b.company_id = c.company_id
  ), chosen AS (
    SELECT r.id FROM ranked r WHERE r.rank <= r.free ORDER BY r.priority DESC, r.run_at, r.id LIMIT p_limit
  ), u AS (
    UPDATE content_jobs j
    SET status = 'running', locked_by = p_worker, heartbeat_at = now(), attempt = j.attempt + 1,
        started_at = coalesce(j.started_at, now()), progress = 0, stage = NULL, updated_at = now()
    FROM chosen WHERE j.id = chosen.id
    RETURNING j.*
  ), ev AS (
    INSERT INTO content_job_events (company_id, job_id, type, payload)
    SELECT u.company_id, u.id, 'content_job.running',
           jsonb_build_object('jobId', u.id, 'status', u.status, 'attempt', u.attempt, 'progress', 0)
    FROM u
    RETURNING content_job_events.job_id,
              pg_notify('kiln_events', content_job_events.id || ',' || content_job_events.company_id || ',' || content_job_events.job_id)
  )
  SELECT u.* FROM u JOIN ev ON ev.job_id = u.id ORDER BY u.priority DESC, u.run_at, u.id;
END
$$;

-- Indexes every insert paid for and few reads use: events are read by company in (xid, id)
-- order (content_job_events_company_xid_idx), never across companies by xid; most jobs have no
-- task, no idempotency key and no input assets, and reads by those always name one.
DROP INDEX content_job_events_xid_idx;

DROP INDEX content_jobs_company_task_idx;
CREATE INDEX content_jobs_company_task_idx ON content_jobs (company_id, source_task_id) WHERE source_task_id IS NOT NULL;

DROP INDEX content_jobs_company_idempotency_idx;
CREATE UNIQUE INDEX content_jobs_company_idempotency_idx ON content_jobs (company_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

DROP INDEX content_jobs_input_assets_idx;
CREATE INDEX content_jobs_input_assets_idx ON content_jobs USING gin (input_asset_ids) WHERE input_asset_ids <> '{}';

-- A queue table churns: claimed rows leave dead entries at the head of the queue index until
-- vacuum, and its statistics go stale within seconds. Vacuum and analyze it far more often than
-- the default 20 % / 10 % of the table.
ALTER TABLE content_jobs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
