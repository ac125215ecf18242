-- Webhook deliveries are an outbox: the row is written in the same transaction as the job's
-- terminal transition, and workers deliver due rows with retries, so a notification is neither
-- lost when a process dies nor sent for a transition that rolled back.
CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  company_id uuid NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  job_id uuid NOT NULL REFERENCES content_jobs(id) ON DELETE CASCADE,
  event_id bigint NOT NULL REFERENCES content_job_events(id) ON DELETE CASCADE,
  url text NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  status_code integer,
  error text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  failed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_company_job_idx ON webhook_deliveries (company_id, job_id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
