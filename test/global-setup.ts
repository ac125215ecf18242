import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase, ensureDatabase, migrate, startEmbeddedPostgres } from '@kiln/db';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

/**
 * One embedded PostgreSQL for the whole run (under /tmp: as root its server runs as the
 * `postgres` user, which must be able to reach the directory). Each test file clones a migrated
 * template database, so files never see each other's rows.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-test-pg-'));
  const pg = await startEmbeddedPostgres(dir, { fast: true });
  const templateUrl = await ensureDatabase(pg.url, 'kiln_template');
  const db = createDatabase(templateUrl, { maxConnections: 1 });
  await migrate(db.pool);
  await db.close();
  project.provide('pgAdminUrl', pg.url);
  project.provide('pgTemplate', 'kiln_template');
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
