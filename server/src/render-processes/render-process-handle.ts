import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { FromRenderProcess, ToRenderProcess } from './render-protocol.js';

const ENTRY = new URL('./render-process-entry.mjs', import.meta.url);
const PAGE_BYTES = 4096;
const WATCH_INTERVAL_MS = 250;
const STDERR_TAIL_CHARS = 4000;

export interface RenderProcessOptions {
  /** Modules exporting `renderers: Renderer[]`, loaded beside the built-in kinds. */
  rendererModules: string[];
  /** Resident memory ceiling; past it the process is killed (and its job fails render_crashed). */
  memoryLimitMb: number;
}

export interface RenderProcess {
  readonly child: ChildProcess;
  /** Resolves when the renderers are loaded; rejects if the process dies first. */
  readonly ready: Promise<void>;
  /** Resolves once the process has exited, with a sentence saying how. */
  readonly exited: Promise<string>;
  /** False from the moment it is killed (not only once it has exited): never hand it out again. */
  readonly alive: boolean;
  send(msg: ToRenderProcess): void;
  /** SIGKILL, remembering why (the reason is what a crashed job reports). */
  kill(reason: string): void;
}

/**
 * Environment of a render process: enough to run node, tsx and the media tools, and nothing of
 * the server's own (database URL, storage and provider credentials never reach user content).
 */
function renderEnvironment(rendererModules: string[]): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ', 'NODE_ENV'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.KILN_RENDERER_MODULES_JSON = JSON.stringify(rendererModules);
  return env;
}

/**
 * Starts one render process with its memory ceiling: V8's heap limit at three quarters of it (a
 * runaway JavaScript heap aborts cleanly), and a watchdog that SIGKILLs the process when its
 * resident set — which counts native buffers (resvg, sharp) that V8 does not — passes the limit.
 */
export function startRenderProcess(options: RenderProcessOptions): RenderProcess {
  const heapMb = Math.max(256, Math.floor(options.memoryLimitMb * 0.75));
  const child = fork(ENTRY, [], {
    execArgv: [`--max-old-space-size=${heapMb}`],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: renderEnvironment(options.rendererModules),
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let killReason: string | null = null;
  let alive = true;

  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      clearInterval(watchdog);
      const how = killReason ?? (signal ? `was killed by ${signal}` : `exited with code ${code}`);
      const fatal = /FATAL ERROR[^\n]*/.exec(stderr)?.[0];
      resolve(fatal && !killReason ? `${how} (${fatal.trim()})` : how);
    });
  });
  // IPC errors after the child died (EPIPE on a late send) are expected; the exit says what happened.
  child.on('error', () => undefined);

  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromRenderProcess) => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    void exited.then((how) => reject(new Error(`render process ${how} while starting${stderr ? `: ${stderr.trim().slice(-500)}` : ''}`)));
  });
  ready.catch(() => undefined);

  const limitBytes = options.memoryLimitMb * 1024 * 1024;
  const watchdog = setInterval(() => {
    if (!alive || child.pid === undefined) return;
    readFile(`/proc/${child.pid}/statm`, 'utf8').then(
      (statm) => {
        const rss = Number(statm.split(' ')[1]) * PAGE_BYTES;
        if (rss > limitBytes && alive) {
          handle.kill(`exceeded its memory limit of ${options.memoryLimitMb} MiB (resident ${Math.round(rss / 1048576)} MiB)`);
        }
      },
      () => undefined, // not Linux, or already gone
    );
  }, WATCH_INTERVAL_MS);
  watchdog.unref();

  const handle: RenderProcess = {
    child,
    ready,
    exited,
    get alive() {
      return alive && killReason === null;
    },
    send(msg) {
      if (alive && killReason === null && child.connected) child.send(msg);
    },
    kill(reason) {
      if (!alive) return;
      killReason ??= reason;
      child.kill('SIGKILL');
    },
  };
  return handle;
}
