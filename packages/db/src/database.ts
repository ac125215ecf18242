import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from './schema/index.js';

// int8 (event ids, counts) arrives as a string by default; event ids stay strings on purpose
// (they are SSE ids), counts are converted where read.

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  url: string;
  pool: pg.Pool;
  db: Db;
  /** A connection outside the pool, for LISTEN and for holding session advisory locks. */
  connectDedicated(): Promise<pg.Client>;
  close(): Promise<void>;
}

export function createDatabase(url: string, options: { maxConnections?: number; applicationName?: string } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'kiln',
  });
  // An idle client that loses its connection (server restart) emits here; without a listener
  // the process would crash. The pool discards that client and the next query reconnects.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema });
  return {
    url,
    pool,
    db,
    async connectDedicated() {
      const client = new pg.Client({ connectionString: url, application_name: options.applicationName ?? 'kiln' });
      await client.connect();
      return client;
    },
    async close() {
      await pool.end();
    },
  };
}
