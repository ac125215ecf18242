-- Events in commit order (docs/architecture.md, "Event ordering").
-- An event's id is taken from a sequence before its transaction commits, so ids alone do not say
-- in which order events became visible. Each event also records the id of the transaction that
-- wrote it; readers deliver only events below a horizon under which no transaction of Kiln's is
-- still running, in (xid, id) order, which a late commit can no longer break.
ALTER TABLE content_job_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX content_job_events_company_xid_idx ON content_job_events (company_id, xid, id);
CREATE INDEX content_job_events_xid_idx ON content_job_events (xid, id);

-- The horizon: every event with xid below it has committed or rolled back, and no event below it
-- can appear later. It is the oldest transaction still running that belongs to a Kiln session of
-- this database (application_name 'kiln…'), bounded by the xmax of a snapshot taken *before*
-- pg_stat_activity is read: a Kiln transaction that already had an xid then and is still running
-- when the caller reads events afterwards is listed, and one that got its xid later is above that
-- xmax anyway. Transactions of other applications — a long report on a shared server — do not
-- hold it back. The caller must read events in a later statement than this function.
CREATE FUNCTION kiln_event_horizon() RETURNS xid8
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  snap pg_snapshot := pg_current_snapshot();
  oldest xid8;
BEGIN
  SELECT min(x) INTO oldest
  FROM pg_snapshot_xip(snap) AS x
  WHERE (x::text::numeric % 4294967296) IN (
    SELECT a.backend_xid::text::numeric FROM pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL AND a.datname = current_database() AND a.application_name LIKE 'kiln%'
  );
  RETURN coalesce(least(oldest, pg_snapshot_xmax(snap)), pg_snapshot_xmax(snap));
END
$$;

-- Attempts lost to a dead worker count against max_attempts once per job, not each time.
ALTER TABLE content_jobs ADD COLUMN lost_attempts integer NOT NULL DEFAULT 0;
-- Things in the input that were not rendered as written (ctx.warn), shown on the job.
ALTER TABLE content_jobs ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Backpressure: queued jobs per company above this are refused with 429 queue_full.
ALTER TABLE companies ADD COLUMN max_queued_jobs integer NOT NULL DEFAULT 10000 CHECK (max_queued_jobs > 0);
CREATE INDEX content_jobs_company_queued_idx ON content_jobs (company_id) WHERE status = 'queued';

-- Retention prunes events and webhook rows of jobs finished long ago.
CREATE INDEX content_jobs_finished_idx ON content_jobs (finished_at) WHERE finished_at IS NOT NULL;
