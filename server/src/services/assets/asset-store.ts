import type { AssetMetadata, AssetRole, AssetView } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';
import { filteredPage } from '../../db/filtered-page-query.js';

export interface AssetRow {
  id: string;
  companyId: string;
  provider: string;
  namespace: string;
  objectKey: string;
  contentType: string;
  byteSize: number;
  sha256: string;
  originalFilename: string;
  sourceTaskId: string | null;
  sourceJobId: string | null;
  role: AssetRole;
  metadata: AssetMetadata;
  /** The assets the job that made this one read (none for uploads). */
  derivedFrom: string[];
  createdAt: Date;
}

export const ASSET_COLUMNS = `
  a.id, a.company_id AS "companyId", a.provider, a.namespace, a.object_key AS "objectKey",
  a.content_type AS "contentType", a.byte_size::float8 AS "byteSize", a.sha256,
  a.original_filename AS "originalFilename", a.source_task_id AS "sourceTaskId",
  a.source_job_id AS "sourceJobId", a.role, a.metadata, a.created_at AS "createdAt",
  coalesce((SELECT j.input_asset_ids FROM content_jobs j WHERE j.id = a.source_job_id), '{}')::text[] AS "derivedFrom"`;

/** Primary outputs first (what a caller wants), then previews, then anything else; oldest first within each. */
export const ASSET_ORDER = `CASE a.role WHEN 'primary' THEN 0 WHEN 'preview' THEN 1 ELSE 2 END, a.created_at, a.id`;

export type NewAsset = Omit<AssetRow, 'id' | 'createdAt' | 'derivedFrom'>;

export async function insertAsset(q: Queryable, a: NewAsset): Promise<AssetRow> {
  const { rows } = await q.query<AssetRow>(
    `INSERT INTO assets AS a (company_id, provider, namespace, object_key, content_type, byte_size, sha256,
                         original_filename, source_task_id, source_job_id, role, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
     RETURNING ${ASSET_COLUMNS}`,
    [
      a.companyId, a.provider, a.namespace, a.objectKey, a.contentType, a.byteSize, a.sha256,
      a.originalFilename, a.sourceTaskId, a.sourceJobId, a.role, JSON.stringify(a.metadata ?? {}),
    ],
  );
  return rows[0]!;
}

export async function findAsset(q: Queryable, companyId: string, assetId: string): Promise<AssetRow | null> {
  const { rows } = await q.query<AssetRow>(`SELECT ${ASSET_COLUMNS} FROM assets a WHERE a.company_id = $1 AND a.id = $2`, [
    companyId,
    assetId,
  ]);
  return rows[0] ?? null;
}

/** The company's assets among `ids` (to check references before a job is queued). */
export async function findAssetIds(q: Queryable, companyId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await q.query<{ id: string }>(`SELECT id FROM assets WHERE company_id = $1 AND id = ANY($2::uuid[])`, [
    companyId,
    ids,
  ]);
  return new Set(rows.map((r) => r.id));
}

export function listAssets(
  q: Queryable,
  companyId: string,
  f: { sourceTaskId?: string; jobId?: string; afterId?: string; limit: number },
): Promise<AssetRow[]> {
  return filteredPage<AssetRow>(q, {
    table: 'assets',
    alias: 'a',
    columns: ASSET_COLUMNS,
    companyId,
    equals: { source_task_id: f.sourceTaskId, source_job_id: f.jobId },
    afterId: f.afterId,
    limit: f.limit,
  });
}

export async function listAssetsOfJobs(q: Queryable, companyId: string, jobIds: string[]): Promise<AssetRow[]> {
  if (jobIds.length === 0) return [];
  const { rows } = await q.query<AssetRow>(
    `SELECT ${ASSET_COLUMNS} FROM assets a WHERE a.company_id = $1 AND a.source_job_id = ANY($2::uuid[])
     ORDER BY ${ASSET_ORDER}`,
    [companyId, jobIds],
  );
  return rows;
}

export async function deleteAssetRow(q: Queryable, companyId: string, assetId: string): Promise<AssetRow | null> {
  const { rows } = await q.query<AssetRow>(
    `DELETE FROM assets a WHERE a.company_id = $1 AND a.id = $2 RETURNING ${ASSET_COLUMNS}`,
    [companyId, assetId],
  );
  return rows[0] ?? null;
}

/** Which of these storage keys have an asset row (for the orphan sweeper). */
export async function existingObjectKeys(q: Queryable, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await q.query<{ k: string }>(`SELECT object_key AS k FROM assets WHERE object_key = ANY($1::text[])`, [keys]);
  return new Set(rows.map((r) => r.k));
}

export function toAssetView(a: AssetRow, baseUrl = ''): AssetView {
  return {
    id: a.id,
    companyId: a.companyId,
    jobId: a.sourceJobId,
    sourceTaskId: a.sourceTaskId,
    role: a.role,
    derivedFrom: a.derivedFrom ?? [],
    contentType: a.contentType,
    byteSize: a.byteSize,
    sha256: a.sha256,
    filename: a.originalFilename,
    metadata: a.metadata,
    url: `${baseUrl}/api/companies/${a.companyId}/assets/${a.id}/content`,
    createdAt: a.createdAt.toISOString(),
  };
}
