import type { Database } from '@kiln/db';
import type { Config } from '../config.js';

/**
 * Opens the database the server would use (DATABASE_URL or the embedded one under the data dir),
 * migrated, runs `fn`, and closes everything it opened. For the admin commands that work without
 * a running server (companies, keys, migrate).
 */
export async function withDatabase(config: Config, fn: (db: Database) => Promise<number | void>): Promise<number> {
  const [{ default: pino }, { openDatabase }] = await Promise.all([import('pino'), import('../runtime.js')]);
  const { database, embedded } = await openDatabase(config, pino({ level: 'warn' }));
  try {
    return (await fn(database)) ?? 0;
  } finally {
    await database.close();
    if (embedded?.owned) await embedded.stop();
  }
}
