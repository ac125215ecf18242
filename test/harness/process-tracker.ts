import { descendantsOf, isAlive, listProcs, readCmdline, readEnviron, readProc, type ProcInfo, type ProcRef } from './proc-table.js';

export interface TrackedProc extends ProcRef {
  ppid: number;
  pgid: number;
  comm: string;
  cmdline: string;
  /** What it is to Kiln, from its command line: render process, lifeline wrapper, ffmpeg… */
  kind: ProcKind;
}

/** `esbuild`: the transform service tsx starts in every Kiln and render process. */
export type ProcKind = 'kiln' | 'render-process' | 'lifeline-sh' | 'ffmpeg' | 'espeak-ng' | 'chromium' | 'esbuild' | 'other';

export function kindOf(comm: string, cmdline: string): ProcKind {
  if (cmdline.includes('render-process-entry.mjs')) return 'render-process';
  if (cmdline.includes('kiln.mjs')) return 'kiln';
  if (comm === 'ffmpeg' || comm === 'ffprobe') return 'ffmpeg';
  if (comm === 'espeak-ng') return 'espeak-ng';
  if (comm === 'sh' && cmdline.includes('exec 3<&0')) return 'lifeline-sh';
  if (comm.startsWith('chrom')) return 'chromium';
  if (comm === 'esbuild') return 'esbuild';
  return 'other';
}

const refKey = (r: ProcRef) => `${r.pid}:${r.startTime}`;

/**
 * Remembers every process ever seen below a root — sampled every `intervalMs` and on demand
 * (right before a kill) — because once the root dies its children are reparented and the
 * parent chain no longer leads to them.
 */
export class ProcessFamily {
  readonly seen = new Map<string, TrackedProc>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly root: ProcRef, intervalMs = 200) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Records the root's current descendants (while the root lives; after that nothing new can appear under it). */
  sample(table: ProcInfo[] = listProcs()): void {
    if (!isAlive(this.root)) return this.stopSampling();
    for (const p of descendantsOf(this.root.pid, table)) {
      const key = refKey(p);
      if (this.seen.has(key)) continue;
      const cmdline = readCmdline(p.pid);
      this.seen.set(key, { pid: p.pid, startTime: p.startTime, ppid: p.ppid, pgid: p.pgid, comm: p.comm, cmdline, kind: kindOf(p.comm, cmdline) });
    }
  }

  stopSampling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Descendants ever seen that still run. */
  survivors(): TrackedProc[] {
    return [...this.seen.values()].filter(isAlive);
  }

  /** Descendants that run now (a fresh sample first). */
  current(): TrackedProc[] {
    this.sample();
    return this.survivors();
  }
}

/**
 * Processes carrying this run's tag anywhere in their environment: the Kiln processes the
 * harness started get `KILN_CHAOS_RUN=<tag>`, and a `TMPDIR` under the run directory, which the
 * render processes (whose environment Kiln reduces to PATH, HOME, TMPDIR…) and the media tools
 * they start inherit. This finds a leftover whatever its parentage.
 */
export function taggedProcesses(tag: string, runDir: string): TrackedProc[] {
  const out: TrackedProc[] = [];
  for (const p of listProcs()) {
    if (p.pid === process.pid || p.state === 'Z') continue;
    const env = readEnviron(p.pid);
    if (!env) continue;
    // A tag ending in '-' is a prefix: every run's processes.
    const run = env.get('KILN_CHAOS_RUN') ?? '';
    const ours = tag.endsWith('-') ? run.startsWith(tag) : run === tag;
    if (!ours && !(env.get('TMPDIR') ?? '').startsWith(runDir)) continue;
    const cmdline = readCmdline(p.pid);
    out.push({ pid: p.pid, startTime: p.startTime, ppid: p.ppid, pgid: p.pgid, comm: p.comm, cmdline, kind: kindOf(p.comm, cmdline) });
  }
  return out;
}

/** SIGKILLs one process, only if it is still the process `ref` names. */
export function killRef(ref: ProcRef, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  const p = readProc(ref.pid);
  if (!p || p.startTime !== ref.startTime) return false;
  try {
    process.kill(ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function describeProcs(procs: TrackedProc[]): string {
  return procs.map((p) => `${p.pid} ${p.kind} (${p.comm}: ${p.cmdline.slice(0, 120)})`).join('; ');
}

/** Waits until none of `procs` runs or `timeoutMs` passes; returns how long it took and who is left. */
export async function waitUntilGone(procs: ProcRef[], timeoutMs: number, pollMs = 50): Promise<{ ms: number; left: ProcRef[] }> {
  const start = performance.now();
  for (;;) {
    const left = procs.filter(isAlive);
    const ms = performance.now() - start;
    if (left.length === 0 || ms >= timeoutMs) return { ms, left };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
