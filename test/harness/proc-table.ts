import { readdirSync, readFileSync } from 'node:fs';

/**
 * A read of the Linux process table through /proc — enough to follow a Kiln process's
 * descendants (render processes, the `sh` lifeline wrappers and the ffmpeg/espeak-ng under them),
 * which leave the parent's process group and even its session, and are reparented to init once
 * their parent dies. A process is named by pid *and* start time, so a recycled pid is never
 * mistaken for the process we saw.
 */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
  state: string;
  comm: string;
}

export interface ProcRef {
  pid: number;
  startTime: number;
}

/** Parses /proc/<pid>/stat; null when the process is gone. */
export function readProc(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: Number(rest[19]),
  };
}

export function listProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** True while the very process `ref` names runs (a zombie has stopped running: not alive). */
export function isAlive(ref: ProcRef): boolean {
  const p = readProc(ref.pid);
  return p !== null && p.startTime === ref.startTime && p.state !== 'Z' && p.state !== 'X';
}

export function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The process's environment (readable for any process as root, for our own otherwise); null when gone. */
export function readEnviron(pid: number): Map<string, string> | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  const env = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Every live process below `rootPid` in the current table (not the root itself). */
export function descendantsOf(rootPid: number, table: ProcInfo[] = listProcs()): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}
