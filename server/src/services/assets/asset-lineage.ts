import type { Queryable } from '../jobs/job-row.js';
import { ASSET_COLUMNS, type AssetRow } from './asset-store.js';

/** How far lineage is followed each way, and how many assets it returns at most. */
export const MAX_LINEAGE_DEPTH = 20;
export const MAX_LINEAGE_ASSETS = 500;

export interface LineageRow {
  depth: number;
  asset: AssetRow;
}

/**
 * What an asset was made from (ancestors: the inputs of the job that made it, their jobs' inputs,
 * and so on) and what was made from it (descendants: the outputs of every job that read it, and
 * theirs), nearest first. Both walks stay inside the company.
 */
export async function assetLineage(q: Queryable, companyId: string, assetId: string): Promise<{ ancestors: LineageRow[]; descendants: LineageRow[] }> {
  const [ancestors, descendants] = await Promise.all([
    walk(
      q,
      `WITH RECURSIVE up(asset_id, depth) AS (
         SELECT i.id, 1 FROM assets a JOIN content_jobs j ON j.id = a.source_job_id, unnest(j.input_asset_ids) AS i(id)
         WHERE a.company_id = $1 AND a.id = $2
         UNION
         SELECT i.id, up.depth + 1 FROM up
         JOIN assets a ON a.id = up.asset_id AND a.company_id = $1
         JOIN content_jobs j ON j.id = a.source_job_id, unnest(j.input_asset_ids) AS i(id)
         WHERE up.depth < $3
       )
       SELECT asset_id AS id, min(depth) AS depth FROM up GROUP BY asset_id`,
      [companyId, assetId, MAX_LINEAGE_DEPTH],
    ),
    walk(
      q,
      `WITH RECURSIVE down(asset_id, depth) AS (
         SELECT a.id, 1 FROM content_jobs j JOIN assets a ON a.source_job_id = j.id
         WHERE j.company_id = $1 AND j.input_asset_ids <> '{}' AND j.input_asset_ids @> ARRAY[$2::uuid]
         UNION
         SELECT a.id, d.depth + 1 FROM down d
         JOIN content_jobs j ON j.company_id = $1 AND j.input_asset_ids <> '{}' AND j.input_asset_ids @> ARRAY[d.asset_id]
         JOIN assets a ON a.source_job_id = j.id
         WHERE d.depth < $3
       )
       SELECT asset_id AS id, min(depth) AS depth FROM down GROUP BY asset_id`,
      [companyId, assetId, MAX_LINEAGE_DEPTH],
    ),
  ]);
  return { ancestors, descendants };
}

async function walk(q: Queryable, sql: string, values: unknown[]): Promise<LineageRow[]> {
  const { rows } = await q.query<AssetRow & { depth: number }>(
    `WITH found AS (${sql})
     SELECT ${ASSET_COLUMNS}, found.depth FROM found JOIN assets a ON a.id = found.id AND a.company_id = $1
     ORDER BY found.depth, a.created_at, a.id LIMIT ${MAX_LINEAGE_ASSETS}`,
    values,
  );
  return rows.map(({ depth, ...asset }) => ({ depth, asset: asset as AssetRow }));
}
