import pg from 'pg';

// int8 (event ids, counts) arrives as a string by default; event ids stay strings on purpose
// (they are SSE ids), counts are converted where read.

export interface PoolOptions {
  maxConnections?: number;
  /**
   * How long a query may wait for a free connection (or for a new one to connect) before it
   * fails; the HTTP layer answers such a failure with 503 `database_busy`, never a hang.
   */
  acquireTimeoutMs?: number;
  /** Shown in pg_stat_activity. Every Kiln connection's name starts with `kiln` (see the event horizon). */
  applicationName?: string;
}

export interface Database {
  url: string;
  pool: pg.Pool;
  /** A pool of its own for another part of the process (the worker), so one cannot starve the other. */
  createPool(options: PoolOptions): pg.Pool;
  /**
   * A connection outside every pool, for LISTEN and for holding session advisory locks. TCP
   * keep-alive is on so a connection whose server vanished is noticed.
   */
  connectDedicated(applicationName?: string): Promise<pg.Client>;
  close(): Promise<void>;
}

export function createDatabase(url: string, options: PoolOptions = {}): Database {
  const pools: pg.Pool[] = [];
  const createPool = (o: PoolOptions) => {
    const pool = new pg.Pool({
      connectionString: url,
      max: o.maxConnections ?? 10,
      connectionTimeoutMillis: o.acquireTimeoutMs ?? 0,
      application_name: o.applicationName ?? 'kiln',
      keepAlive: true,
    });
    // An idle client that loses its connection (server restart) emits here; without a listener
    // the process would crash. The pool discards that client and the next query reconnects.
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };
  const pool = createPool(options);
  return {
    url,
    pool,
    createPool,
    async connectDedicated(applicationName = 'kiln') {
      const client = new pg.Client({ connectionString: url, application_name: applicationName, keepAlive: true, connectionTimeoutMillis: 10_000 });
      // Until the owner attaches its own handler, an error must not crash the process.
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    async close() {
      await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
    },
  };
}
