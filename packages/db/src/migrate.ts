import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
/** Any constant works; it only has to be the same in every Kiln process sharing a database. */
const MIGRATION_LOCK_KEY = 7_412_001;

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies the committed SQL migrations in name order, each in its own transaction. A session
 * advisory lock makes concurrent starts (server and `kiln worker` together) safe: the second
 * waits, then finds nothing left to do.
 */
export async function migrate(pool: pg.Pool): Promise<MigrationResult> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS kiln_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM kiln_migrations')).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const sqlText = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sqlText);
        await client.query('INSERT INTO kiln_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return { applied };
}

/** True when every committed migration has been applied (what `/api/ready` reports). */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql'));
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM kiln_migrations WHERE name = ANY($1::text[])`,
    [files],
  );
  return Number(rows[0]?.n) === files.length;
}
