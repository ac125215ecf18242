-- Agents bring their own files (uploads are assets with role 'input' and no job) and follow
-- lineage: a job records every asset its input referenced, so an output knows what it was made
-- from and an input knows what was made from it.
ALTER TABLE assets DROP CONSTRAINT assets_role_check;
ALTER TABLE assets ADD CONSTRAINT assets_role_check CHECK (role IN ('primary', 'preview', 'input'));

ALTER TABLE content_jobs ADD COLUMN input_asset_ids uuid[] NOT NULL DEFAULT '{}';
-- "Which jobs used this asset?" — the downstream half of lineage.
CREATE INDEX content_jobs_input_assets_idx ON content_jobs USING gin (input_asset_ids);

-- The name a caller gave the output (Content-Disposition and the stored name), if any.
ALTER TABLE content_jobs ADD COLUMN output_name text;
