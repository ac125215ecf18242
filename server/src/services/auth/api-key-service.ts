import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../jobs/job-row.js';

export type Principal = { kind: 'admin'; keyId: string | null } | { kind: 'company'; companyId: string; keyId: string };

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys are shown once at creation and stored only as their sha256. */
export function apiKeyService(pool: Queryable) {
  return {
    async create(input: { companyId: string | null; name: string }): Promise<{ id: string; key: string }> {
      const key = `kiln_${randomBytes(32).toString('base64url')}`;
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO api_keys (company_id, name, key_hash) VALUES ($1, $2, $3) RETURNING id`,
        [input.companyId, input.name, hashApiKey(key)],
      );
      return { id: rows[0]!.id, key };
    },
    async revoke(id: string): Promise<boolean> {
      const { rowCount } = await pool.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
      return (rowCount ?? 0) > 0;
    },
    async list() {
      const { rows } = await pool.query(
        `SELECT id, company_id AS "companyId", name, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM api_keys ORDER BY created_at`,
      );
      return rows;
    },
    /**
     * The principal a presented key stands for, or null when unknown or revoked. `last_used_at`
     * is written at most once a minute per key: a write (and its WAL) per request would make
     * every authenticated read a write.
     */
    async authenticate(key: string): Promise<Principal | null> {
      const { rows } = await pool.query<{ id: string; companyId: string | null }>(
        `WITH k AS (
           SELECT id, company_id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
         ), touched AS (
           UPDATE api_keys SET last_used_at = now()
           WHERE id IN (SELECT id FROM k WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
         )
         SELECT id, company_id AS "companyId" FROM k`,
        [hashApiKey(key)],
      );
      const row = rows[0];
      if (!row) return null;
      return row.companyId ? { kind: 'company', companyId: row.companyId, keyId: row.id } : { kind: 'admin', keyId: row.id };
    },
  };
}

export type ApiKeyService = ReturnType<typeof apiKeyService>;
