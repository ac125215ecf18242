-- Kiln's initial schema. Every tenant-owned table carries company_id, first in its composite indexes.
CREATE TABLE companies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  max_concurrent_jobs integer NOT NULL DEFAULT 4 CHECK (max_concurrent_jobs > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid REFERENCES companies(id) ON DELETE CASCADE, -- null: an admin key
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_company_idx ON api_keys (company_id);

CREATE TABLE content_jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  kind text NOT NULL,
  input jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'canceled')),
  progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  stage text,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  priority integer NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  heartbeat_at timestamptz,
  timeout_ms integer NOT NULL,
  source_task_id text,
  idempotency_key text,
  request_hash text,
  webhook_url text,
  error_code text,
  error_message text,
  cancel_requested_at timestamptz,
  requested_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_jobs_company_created_idx ON content_jobs (company_id, created_at DESC, id DESC);
CREATE INDEX content_jobs_company_task_idx ON content_jobs (company_id, source_task_id);
CREATE UNIQUE INDEX content_jobs_company_idempotency_idx ON content_jobs (company_id, idempotency_key);
-- The queue: only queued rows, in claim order.
CREATE INDEX content_jobs_queue_idx ON content_jobs (priority DESC, run_at, id) WHERE status = 'queued';
-- Heartbeats, per-company running counts and the reaper look only at running rows.
CREATE INDEX content_jobs_running_idx ON content_jobs (locked_by, company_id) WHERE status = 'running';

CREATE TABLE content_job_events (
  id bigserial PRIMARY KEY,
  company_id uuid NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  job_id uuid NOT NULL REFERENCES content_jobs(id) ON DELETE CASCADE,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_job_events_company_idx ON content_job_events (company_id, id);
CREATE INDEX content_job_events_job_idx ON content_job_events (job_id, id);

CREATE TABLE assets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  provider text NOT NULL,
  namespace text NOT NULL,
  object_key text NOT NULL,
  content_type text NOT NULL,
  byte_size bigint NOT NULL,
  sha256 text NOT NULL,
  original_filename text NOT NULL,
  source_task_id text,
  source_job_id uuid REFERENCES content_jobs(id) ON DELETE SET NULL,
  role text NOT NULL CHECK (role IN ('primary', 'preview')),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX assets_company_object_key_idx ON assets (company_id, object_key);
CREATE INDEX assets_company_created_idx ON assets (company_id, created_at DESC, id DESC);
CREATE INDEX assets_company_task_idx ON assets (company_id, source_task_id);
CREATE INDEX assets_company_job_idx ON assets (company_id, source_job_id);
