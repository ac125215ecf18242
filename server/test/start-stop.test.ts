import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startKiln } from '../src/runtime.js';
import { createTestDatabaseUrl, startTestKiln, waitForJob } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

/** Child processes of this process that are render processes (render/validation pools). */
function renderProcessesOfThisProcess(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('render-process-entry')) found.push(Number(entry));
    } catch {
      /* gone while we looked */
    }
  }
  return found;
}

async function kilnConnections(databaseUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl, application_name: 'test-observer' });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'kiln%'`,
    );
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

const resourceCounts = () => {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};

describe('start and stop in order', () => {
  it('stop leaves no connection, render process, timer or socket behind', async () => {
    const before = resourceCounts();
    const kiln = await startTestKiln({}, { rendererModules: [TEST_RENDERERS] });
    const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'test-slow', input: { ms: 200, steps: 2 } });
    expect((await waitForJob(kiln, res.body.jobId)).status).toBe('done');
    // A job still running at stop time is handed back, not abandoned.
    const running = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'test-slow', input: { ms: 60_000, steps: 60 } });
    await waitForJob(kiln, running.body.jobId, (j) => j.status === 'running');
    expect(renderProcessesOfThisProcess().length).toBeGreaterThan(0);
    const databaseUrl = kiln.databaseUrl;
    await kiln.cleanup();

    expect(await kilnConnections(databaseUrl)).toBe(0);
    expect(renderProcessesOfThisProcess()).toEqual([]);
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const { rows } = await c.query(`SELECT status, attempt FROM content_jobs WHERE id = $1`, [running.body.jobId]);
    await c.end();
    expect(rows[0]).toEqual({ status: 'queued', attempt: 0 });
    // Nothing this Kiln created keeps the event loop busy.
    const after = resourceCounts();
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap', 'PipeWrap', 'Timeout']) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });

  it('a busy port is refused before anything starts', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kiln-busy-port-'));
    try {
      const databaseUrl = await createTestDatabaseUrl();
      const config = loadConfig({ KILN_PORT: String(port), KILN_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, KILN_LOG_LEVEL: 'silent' });
      await expect(startKiln(config)).rejects.toThrow(/already in use/);
      // Nothing was started: no default company, no worker connection.
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM companies`);
      await c.end();
      expect(rows[0].n).toBe(0);
      expect(await kilnConnections(databaseUrl)).toBe(0);
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a failure after the embedded PostgreSQL started stops it again', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kiln-failed-start-'));
    try {
      const config = loadConfig({
        KILN_PORT: '0',
        KILN_DATA_DIR: dataDir,
        KILN_LOG_LEVEL: 'silent',
        KILN_RENDERER_MODULES: path.join(dataDir, 'no-such-module.ts'),
      });
      await expect(startKiln(config)).rejects.toThrow();
      // The cluster was created (so PostgreSQL did start) and its server is gone again.
      const settings = JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')) as { port: number };
      const probe = new pg.Client({ host: '127.0.0.1', port: settings.port, user: 'postgres', connectionTimeoutMillis: 2000 });
      probe.on('error', () => undefined);
      await expect(probe.connect()).rejects.toThrow();
      const clusterDirs = [path.join(dataDir, 'postgres')];
      for (const dir of clusterDirs) if (existsSync(dir)) expect(existsSync(path.join(dir, 'postmaster.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

