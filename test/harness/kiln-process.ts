import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, realpathSync, symlinkSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProc, type ProcRef } from './proc-table.js';
import { ProcessFamily, killRef, type TrackedProc } from './process-tracker.js';
import { pollUntil, requestJson } from './http-client.js';

export const KILN_BIN = fileURLToPath(new URL('../../server/bin/kiln.mjs', import.meta.url));

/** `api`: `kiln serve --no-worker`; `serve`: API with its in-process worker; `worker`: `kiln worker`. */
export type KilnRole = 'api' | 'serve' | 'worker';

export interface KilnProcessSpec {
  /** Unique within the run (`api-1`, `worker-2`…); names its log file and its TMPDIR. */
  name: string;
  role: KilnRole;
  /** Required for roles with an API: the harness picks ports itself, so a restart keeps the URL. */
  port?: number;
  /** KILN_* / DATABASE_URL of this process (merged over the cluster's common env). */
  env: Record<string, string>;
  /**
   * Its soft limit on open files (`ulimit -n`, set by a `sh` that then execs node, so the pid is
   * the same); unset: inherited. Must not exceed the hard limit.
   */
  openFilesLimit?: number;
  /** Options for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

export interface RunContext {
  /** Put in every process's environment (KILN_CHAOS_RUN) to find leftovers by tag. */
  tag: string;
  runDir: string;
  logDir: string;
}

/** The variables a Kiln process must not inherit from the harness (its own config comes from the spec). */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('KILN_') || k === 'DATABASE_URL' || k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k === 'TMPDIR') continue;
    env[k] = v;
  }
  return env;
}

const TAIL_CHARS = 8000;

/**
 * One real Kiln process (`node server/bin/kiln.mjs serve|worker`), in a process group and session
 * of its own, its output teed to `<logDir>/<name>.<n>.log`. Its descendants are sampled for as
 * long as it lives (see ProcessFamily), so they can be found — and counted as survivors — after
 * it is killed.
 */
export class KilnProcess {
  readonly child: ChildProcess;
  readonly ref: ProcRef;
  readonly family: ProcessFamily;
  readonly url: string | null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `w<key>@<host>:<pid>` once its worker has started (roles serve and worker). */
  workerId: string | null = null;
  private out = '';
  private readonly log: WriteStream;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(readonly spec: KilnProcessSpec, readonly ctx: RunContext, generation: number) {
    // TMPDIR tags the process's whole family (render processes keep only PATH, HOME, LANG, TMPDIR,
    // TZ and NODE_ENV of their parent's environment). It is a symlink to the real temporary
    // directory, so temporary files — tsx's compile cache above all, without which every
    // process would compile all of Kiln again — land where they always do.
    const tmpDir = path.join(ctx.runDir, 'tmpdirs', `${spec.name}.${generation}`);
    mkdirSync(path.dirname(tmpDir), { recursive: true });
    symlinkSync(realpathSync(tmpdir()), tmpDir);
    const args = [...(spec.nodeArgs ?? []), KILN_BIN, spec.role === 'worker' ? 'worker' : 'serve', ...(spec.role === 'api' ? ['--no-worker'] : [])];
    const env: Record<string, string> = {
      ...baseEnv(),
      KILN_HOST: '127.0.0.1',
      KILN_LOG_LEVEL: 'warn',
      ...spec.env,
      ...(spec.port !== undefined ? { KILN_PORT: String(spec.port) } : {}),
      KILN_CHAOS_RUN: ctx.tag,
      TMPDIR: tmpDir,
    };
    if (spec.role !== 'worker' && spec.port === undefined) throw new Error(`${spec.name}: a process with an API needs a port`);
    this.url = spec.role === 'worker' ? null : `http://127.0.0.1:${spec.port}`;
    this.log = createWriteStream(path.join(ctx.logDir, `${spec.name}.${generation}.log`));
    this.child = spec.openFilesLimit
      ? spawn('/bin/sh', ['-c', `ulimit -n ${Math.floor(spec.openFilesLimit)} && exec "$0" "$@"`, process.execPath, ...args], {
          env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    const info = pid !== undefined ? readProc(pid) : null;
    if (!pid || !info) throw new Error(`${spec.name}: could not start ${args.join(' ')}`);
    this.ref = { pid, startTime: info.startTime };
    this.family = new ProcessFamily(this.ref);
    const onData = (d: Buffer) => {
      const s = d.toString();
      this.log.write(s);
      this.out = (this.out + s).slice(-TAIL_CHARS);
      const m = /worker (w\d+@\S+?:\d+)/.exec(this.out);
      if (m && !this.workerId) this.workerId = m[1]!;
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.family.stopSampling();
        this.log.end();
        resolve({ code, signal });
      });
    });
  }

  get name() {
    return this.spec.name;
  }
  get pid() {
    return this.ref.pid;
  }
  get alive() {
    return this.exitInfo === null;
  }
  /** The last few KiB the process wrote (stdout and stderr). */
  get outputTail() {
    return this.out;
  }

  /** Resolves once the process serves (`/api/ready` 200) or its worker runs; throws if it exits first. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const dead = this.exited.then((e) => {
      throw new Error(`${this.name} exited before it was ready (${e.code ?? e.signal}):\n${this.out}`);
    });
    const ready = pollUntil(`${this.name} to be ready`, timeoutMs, async () => {
      if (!this.alive) return undefined;
      if (this.url) {
        const r = await requestJson(`${this.url}/api/ready`, { timeoutMs: 5000 });
        return r.status === 200 && (this.spec.role === 'api' || this.workerId) ? true : undefined;
      }
      return this.workerId ? true : undefined;
    }, 250);
    await Promise.race([ready, dead]);
    dead.catch(() => undefined);
  }

  /** Running processes below this one now: render processes, lifeline `sh`, ffmpeg… */
  descendants(): TrackedProc[] {
    return this.family.current();
  }

  /**
   * SIGKILL, as a crash or the OOM killer would: this process alone (its descendants are left to
   * die by themselves, which is what the scenarios check), or with `tree` every descendant too,
   * as a container runtime killing the whole service would. Returns the descendants seen.
   */
  async kill(options: { tree?: boolean } = {}): Promise<TrackedProc[]> {
    const family = this.family.current();
    killRef(this.ref, 'SIGKILL');
    if (options.tree) for (const p of family) killRef(p, 'SIGKILL');
    await this.exited;
    return family;
  }

  /** SIGTERM: Kiln's orderly shutdown (jobs handed back, processes closed). Resolves on exit, or SIGKILLs after `graceMs`. */
  async terminate(graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    if (!this.alive) return { ...this.exitInfo!, forced: false };
    killRef(this.ref, 'SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      killRef(this.ref, 'SIGKILL');
    }, graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    return { ...e, forced };
  }
}
