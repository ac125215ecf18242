import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, ensureDatabase, migrate, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@kiln/db';
import { companyService } from '../../server/src/services/companies/company-service.js';

/** Connections the harness opens are named so, never `kiln…`: they must not look like Kiln's (event horizon, terminate). */
export const HARNESS_APPLICATION_NAME = 'chaos-harness';

/**
 * A PostgreSQL of the scenario's own (embedded, under `dir`), which can be stopped and started
 * again on the same data directory and port — the database outage the scenarios need. As root the
 * server runs as the `postgres` user, so `dir` and its parents must be searchable by everyone
 * (the run directory is made 0755 for that).
 */
export class PostgresServer {
  private handle: EmbeddedPostgresHandle | null = null;
  private readonly logFile: string;

  private constructor(readonly dir: string) {
    this.logFile = path.join(dir, 'postgres.log');
  }

  static async start(dir: string): Promise<PostgresServer> {
    const server = new PostgresServer(dir);
    await server.start();
    return server;
  }

  get running(): boolean {
    return this.handle !== null;
  }

  /** The superuser URL of the `postgres` database (the port and password stay the same across restarts). */
  get adminUrl(): string {
    const settings = JSON.parse(readFileSync(path.join(this.dir, 'postgres.json'), 'utf8')) as { port: number; password: string };
    return `postgres://postgres:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/postgres`;
  }

  async start(): Promise<void> {
    if (this.handle) return;
    const handle = await startEmbeddedPostgres(this.dir, {
      fast: true,
      log: (line) => appendFileSync(this.logFile, line + '\n'),
      notice: (message) => appendFileSync(this.logFile, `[notice] ${message}\n`),
    });
    if (!handle.owned) throw new Error(`a PostgreSQL was already running on ${this.dir}'s port; refusing to share it`);
    this.handle = handle;
  }

  /** Fast shutdown (SIGINT): every connection is terminated, the postmaster exits. */
  async stop(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.stop();
  }

  /** The postmaster's pid while it runs (first line of postmaster.pid). */
  postmasterPid(): number | null {
    try {
      return Number(readFileSync(path.join(this.dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
    } catch {
      return null;
    }
  }

  /**
   * Creates (or reuses) database `name`, applies Kiln's migrations and makes the default company,
   * so that Kiln processes started together afterwards never race to create it.
   */
  async prepareKilnDatabase(name: string): Promise<{ url: string; companyId: string }> {
    const url = await ensureDatabase(this.adminUrl, name);
    const db = createDatabase(url, { maxConnections: 2, applicationName: HARNESS_APPLICATION_NAME });
    try {
      await migrate(db.pool);
      const { company } = await companyService(db.pool).ensureDefault();
      return { url, companyId: company.id };
    } finally {
      await db.close();
    }
  }
}

/** A client of the harness's own (application_name `chaos-harness`). */
export async function connectHarnessClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: HARNESS_APPLICATION_NAME, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs one query on a short-lived harness connection (survives the server having restarted in between). */
export async function harnessQuery<R extends pg.QueryResultRow = any>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = await connectHarnessClient(url);
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
