-- Throughput per company (GET /api/companies/:id/stats: jobs ended in the last minute and hour).
-- Partial on finished_at, so submitting and claiming (finished_at still NULL) never touch it;
-- only the terminal transition adds an entry.
CREATE INDEX content_jobs_company_finished_idx ON content_jobs (company_id, finished_at) INCLUDE (kind)
  WHERE finished_at IS NOT NULL;
