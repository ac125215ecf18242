import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnProcess, type KilnProcessSpec, type KilnRole } from './kiln-process.js';
import { PostgresServer } from './postgres-server.js';
import { describeProcs, killRef, taggedProcesses, waitUntilGone, type TrackedProc } from './process-tracker.js';
import { isAlive, readProc } from './proc-table.js';

/** Renderer kinds the fault scenarios load into every Kiln process beside the built-in ones. */
export const TEST_RENDERER_MODULES = [
  fileURLToPath(new URL('../../server/test/support/test-renderers.ts', import.meta.url)),
  fileURLToPath(new URL('./fault-renderers.ts', import.meta.url)),
];

export interface ClusterOptions {
  /** Short label for the run directory (`/tmp/kiln-chaos-<pid>-<label>-…`). */
  label: string;
  /** Env common to every process (over the defaults below). */
  env?: Record<string, string>;
  /**
   * Give every process a data directory of its own (`<run dir>/data/<name>`) instead of one shared
   * one, so nothing can pass between processes through the disk (what separate machines see).
   */
  dataDirPerProcess?: boolean;
}

export interface AddProcessOptions {
  name: string;
  role: KilnRole;
  /** Extra env of this process only; `KILN_DATA_DIR` here gives it a data dir of its own. */
  env?: Record<string, string>;
  /** Its `ulimit -n` (see KilnProcessSpec.openFilesLimit). */
  openFilesLimit?: number;
  /** Options for node itself (see KilnProcessSpec.nodeArgs). */
  nodeArgs?: string[];
}

const live = new Set<KilnCluster>();
let exitHookInstalled = false;

/**
 * Last resort when the harness's own process exits without cleaning up (an uncaught error, a
 * test runner killing it): SIGKILL every Kiln process still running and ask PostgreSQL to stop.
 * Synchronous, by pid, only processes this harness started.
 */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.killEverythingNow();
  });
}

/**
 * Every process this process's harness runs left running: a Kiln process (KILN_CHAOS_RUN in its
 * environment) or anything below one (TMPDIR under one of our `/tmp/kiln-chaos-<pid>-*` run
 * directories). What `ps` after the run should show: nothing. Scoped by our pid because test
 * files run in parallel: the topology test's live cluster is not this run's leftover.
 */
export function allHarnessLeftovers(): TrackedProc[] {
  return taggedProcesses(`chaos-${process.pid}-`, `/tmp/kiln-chaos-${process.pid}-`);
}

function freePort(taken: Set<number>): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => (taken.has(port) ? freePort(taken).then(resolve, reject) : resolve(port)));
    });
  });
}

/**
 * A topology for one scenario: its own PostgreSQL in a temporary directory, any number of Kiln
 * processes against it — `kiln serve`, `kiln serve --no-worker`, `kiln worker` — sharing one data
 * directory (so what a worker stores, every API can read) unless told otherwise, and a cleanup
 * that leaves no process behind whatever happened (and says so if it had to kill stragglers).
 */
export class KilnCluster {
  readonly tag = `chaos-${process.pid}-${randomBytes(5).toString('hex')}`;
  readonly runDir: string;
  readonly logDir: string;
  /** The data directory shared by the processes (storage under `storage/`, scratch under `tmp/`). */
  readonly dataDir: string;
  pg!: PostgresServer;
  databaseUrl!: string;
  companyId!: string;
  /** The current process of each name. */
  readonly processes = new Map<string, KilnProcess>();
  /** Every process started, restarts included. */
  readonly history: KilnProcess[] = [];
  private readonly specs = new Map<string, KilnProcessSpec>();
  private readonly ports = new Set<number>();
  private readonly generations = new Map<string, number>();
  private cleaned = false;

  private constructor(readonly options: ClusterOptions) {
    this.runDir = mkdtempSync(path.join('/tmp', `kiln-chaos-${process.pid}-${options.label}-`));
    // As root PostgreSQL runs as `postgres`, which must be able to pass through the run directory.
    chmodSync(this.runDir, 0o755);
    this.logDir = path.join(this.runDir, 'logs');
    this.dataDir = path.join(this.runDir, 'data');
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
  }

  static async create(options: ClusterOptions): Promise<KilnCluster> {
    installExitHook();
    const c = new KilnCluster(options);
    live.add(c);
    try {
      c.pg = await PostgresServer.start(path.join(c.runDir, 'pg'));
      const { url, companyId } = await c.pg.prepareKilnDatabase('kiln');
      c.databaseUrl = url;
      c.companyId = companyId;
    } catch (err) {
      await c.cleanup();
      throw err;
    }
    return c;
  }

  /** The data directory process `name` runs with (the shared one unless `dataDirPerProcess`). */
  dataDirOf(name: string): string {
    return this.specs.get(name)?.env.KILN_DATA_DIR ?? (this.options.dataDirPerProcess ? path.join(this.dataDir, name) : this.dataDir);
  }

  private commonEnv(name: string): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      KILN_DATA_DIR: this.options.dataDirPerProcess ? path.join(this.dataDir, name) : this.dataDir,
      KILN_RENDERER_MODULES: TEST_RENDERER_MODULES.join(','),
      KILN_WORKER_CONCURRENCY: '2',
      KILN_VALIDATION_PROCESSES: '1',
      ...this.options.env,
    };
  }

  /** Starts a process (not waiting for it to be ready: see `waitReady`). */
  async add(o: AddProcessOptions): Promise<KilnProcess> {
    if (this.specs.has(o.name)) throw new Error(`a process named ${o.name} exists; use restart()`);
    let port: number | undefined;
    if (o.role !== 'worker') {
      port = await freePort(this.ports);
      this.ports.add(port);
    }
    const spec: KilnProcessSpec = { name: o.name, role: o.role, port, env: { ...this.commonEnv(o.name), ...o.env }, openFilesLimit: o.openFilesLimit, nodeArgs: o.nodeArgs };
    mkdirSync(spec.env.KILN_DATA_DIR!, { recursive: true });
    this.specs.set(o.name, spec);
    return this.launch(spec);
  }

  private launch(spec: KilnProcessSpec): KilnProcess {
    if (this.cleaned) throw new Error('cluster already cleaned up');
    const generation = (this.generations.get(spec.name) ?? 0) + 1;
    this.generations.set(spec.name, generation);
    const p = new KilnProcess(spec, { tag: this.tag, runDir: this.runDir, logDir: this.logDir }, generation);
    this.processes.set(spec.name, p);
    this.history.push(p);
    return p;
  }

  /** Starts a process again under the same name, port and env (the previous one must have exited). */
  async restart(name: string): Promise<KilnProcess> {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no process named ${name}`);
    const prev = this.processes.get(name);
    if (prev?.alive) throw new Error(`${name} is still running (pid ${prev.pid})`);
    return this.launch(spec);
  }

  /** Adds several processes at once and waits until all are ready. */
  async start(list: AddProcessOptions[], timeoutMs = 120_000): Promise<KilnProcess[]> {
    const procs: KilnProcess[] = [];
    for (const o of list) procs.push(await this.add(o));
    await Promise.all(procs.map((p) => p.waitReady(timeoutMs)));
    return procs;
  }

  get(name: string): KilnProcess {
    const p = this.processes.get(name);
    if (!p) throw new Error(`no process named ${name}`);
    return p;
  }

  /** The running process whose worker id is `workerId` (from `content_jobs.locked_by`). */
  byWorkerId(workerId: string): KilnProcess | undefined {
    return [...this.processes.values()].find((p) => p.alive && p.workerId === workerId);
  }

  /** `<api url>/api/companies/<company>` of a process with an API. */
  companyBase(name: string): string {
    const p = this.get(name);
    if (!p.url) throw new Error(`${name} has no API`);
    return `${p.url}/api/companies/${this.companyId}`;
  }

  /** Processes of this run (by tag) still running, whatever their parentage. */
  leftovers(): TrackedProc[] {
    return taggedProcesses(this.tag, this.runDir);
  }

  /** Synchronous SIGKILL of everything this cluster started, then its directory; for the exit hook only. */
  killEverythingNow(): void {
    for (const p of this.history) {
      if (!p.alive) continue;
      for (const d of p.family.survivors()) killRef(d);
      killRef(p.ref);
    }
    for (const p of this.leftovers()) killRef(p);
    const pm = this.pg?.postmasterPid();
    const pmInfo = pm ? readProc(pm) : null;
    if (pm && pmInfo) {
      try {
        process.kill(pm, 'SIGINT');
      } catch {
        /* already gone */
      }
      // No event loop here: wait for PostgreSQL's fast shutdown by blocking, 10 s at most.
      const tick = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 200 && isAlive({ pid: pm, startTime: pmInfo.startTime }); i++) Atomics.wait(tick, 0, 0, 50);
    }
    rmSync(this.runDir, { recursive: true, force: true });
  }

  /**
   * Stops every Kiln process (SIGTERM, then SIGKILL after `graceMs`), kills anything of this run
   * still running, stops PostgreSQL and removes the run directory (kept with `keep`, for its
   * logs). Returns what had to be killed at the end — a clean run kills nothing.
   */
  async cleanup(options: { keep?: boolean; graceMs?: number } = {}): Promise<{ stragglers: TrackedProc[]; postgresLeft: boolean }> {
    if (this.cleaned) return { stragglers: [], postgresLeft: false };
    this.cleaned = true;
    await Promise.all(
      [...this.processes.values()].filter((p) => p.alive).map((p) => p.terminate(options.graceMs ?? 15_000)),
    );
    // Whatever survived its parent — by tag, and by what each process's family was seen to hold.
    const seen = this.history.flatMap((p) => p.family.survivors());
    const tagged = this.leftovers();
    const stragglers = [...new Map([...seen, ...tagged].map((p) => [`${p.pid}:${p.startTime}`, p])).values()];
    // Terminated processes close their render processes within a few seconds; give them that.
    const { left } = await waitUntilGone(stragglers, 5000);
    const killed = stragglers.filter((s) => left.some((l) => l.pid === s.pid && l.startTime === s.startTime));
    for (const p of killed) killRef(p);
    await waitUntilGone(killed, 5000);

    const pm = this.pg?.postmasterPid() ?? null;
    const pmInfo = pm ? readProc(pm) : null;
    await this.pg?.stop().catch(() => undefined);
    let postgresLeft = false;
    if (pm && pmInfo) {
      const { left: pgLeft } = await waitUntilGone([{ pid: pm, startTime: pmInfo.startTime }], 10_000);
      postgresLeft = pgLeft.some(isAlive);
    }
    live.delete(this);
    if (!options.keep) rmSync(this.runDir, { recursive: true, force: true });
    if (killed.length > 0) console.warn(`[harness] killed stragglers at cleanup: ${describeProcs(killed)}`);
    return { stragglers: killed, postgresLeft };
  }
}
