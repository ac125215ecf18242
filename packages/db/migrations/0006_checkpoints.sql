-- A renderer may store small JSON on its job (ctx.checkpoint), written with a progress event, so
-- that an attempt retried after a lost worker resumes — e.g. polls the remote job it already
-- started instead of paying for a new one.
ALTER TABLE content_jobs ADD COLUMN checkpoint jsonb;

-- Retries a remote API asked for (429 with Retry-After) do not spend attempts; this bounds them.
ALTER TABLE content_jobs ADD COLUMN throttled_retries integer NOT NULL DEFAULT 0;
