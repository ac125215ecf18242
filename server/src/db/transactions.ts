import type pg from 'pg';
import type { Queryable } from '../services/jobs/job-row.js';
import type { TransactionRunner } from '../services/jobs/job-lifecycle.js';

/** Serialization and deadlock failures: the transaction did nothing and may simply be run again. */
const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);

/**
 * BEGIN/COMMIT on one connection of `pool`, retrying the whole function on 40001/40P01. A lost
 * connection is not retried here: the COMMIT may or may not have happened, and only the caller
 * knows how to tell (see the job runner's completion).
 */
export function createTransactionRunner(pool: pg.Pool): TransactionRunner {
  return {
    async inTransaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const result = await fn(client as unknown as Queryable);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          if (attempt < 5 && RETRYABLE_PG_CODES.has((err as { code?: string }).code ?? '')) continue;
          throw err;
        } finally {
          // A connection that failed mid-transaction is not handed to the next caller.
          client.release(broken ? true : undefined);
        }
      }
    },
  };
}
