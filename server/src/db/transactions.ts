import type { Database } from '@kiln/db';
import type { Queryable } from '../services/jobs/job-row.js';
import type { TransactionRunner } from '../services/jobs/job-queue.js';

/** Serialization and deadlock failures: the transaction did nothing and may simply be run again. */
const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);

/** BEGIN/COMMIT on one pooled connection, retrying the whole function on 40001/40P01. */
export function createTransactionRunner(database: Database): TransactionRunner {
  return {
    async inTransaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        const client = await database.pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(client as unknown as Queryable);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (attempt < 5 && RETRYABLE_PG_CODES.has((err as { code?: string }).code ?? '')) continue;
          throw err;
        } finally {
          client.release();
        }
      }
    },
  };
}
