-- Signed webhooks (Standard Webhooks): a secret per company, with the previous one kept for a
-- while after a rotation so receivers can switch over without dropping deliveries.
--
-- The secret is `whsec_` + base64 of 32 bytes taken from two random UUIDs: gen_random_uuid() is
-- built in (no pgcrypto needed) and uuid_send() gives its 16 bytes, 122 of them random bits, so a
-- secret carries 244 random bits. As a column default it also covers companies created outside
-- the API (`kiln companies create`) and rotation (`SET webhook_secret = DEFAULT`).
ALTER TABLE companies
  ADD COLUMN webhook_secret text NOT NULL
    DEFAULT 'whsec_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'),
  ADD COLUMN previous_webhook_secret text,
  ADD COLUMN webhook_secret_rotated_at timestamptz;

-- Who is sending an attempt right now: set when a worker claims the row, cleared with the outcome.
-- It lets a redeliver request tell "waiting for its retry" from "being sent", and lets the claim
-- count each company's sends in flight across every worker process (the per-company limit).
ALTER TABLE webhook_deliveries ADD COLUMN in_flight_until timestamptz;

-- At most one pending delivery per event: a redeliver request while one is pending reuses it.
CREATE UNIQUE INDEX webhook_deliveries_one_pending_idx ON webhook_deliveries (company_id, event_id)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
