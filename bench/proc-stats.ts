import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/**
 * What the benchmarks read from /proc (Linux): a process's resident set, its CPU time, and the
 * open-files limit — plus the machine's load, printed with every figure.
 */

/** VmRSS of a process in bytes (null when it is gone). */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the state field; USER_HZ is 100 on Linux.
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The soft and hard "Max open files" of this process. */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? 1024, hard: hard ?? 1024 };
}

/** Samples a process's RSS every `intervalMs` until stopped; keeps the peak and every sample. */
export class RssSampler {
  readonly samples: { at: number; rss: number }[] = [];
  private timer: NodeJS.Timeout;
  peak = 0;

  constructor(readonly pid: number, intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number | null {
    const rss = rssBytes(this.pid);
    if (rss !== null) {
      this.samples.push({ at: Date.now(), rss });
      if (rss > this.peak) this.peak = rss;
    }
    return rss;
  }

  /** Peak RSS between two instants (ms since the epoch), both ends included. */
  peakBetween(from: number, to: number): number {
    let peak = 0;
    for (const s of this.samples) if (s.at >= from && s.at <= to && s.rss > peak) peak = s.rss;
    return peak;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Median RSS of `n` samples `gapMs` apart (RSS jitters with the garbage collector). */
export async function steadyRss(pid: number, n = 10, gapMs = 200): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rssBytes(pid);
    if (r !== null) xs.push(r);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? 0;
}

export const MIB = 1024 * 1024;
export const fmtMiB = (b: number) => `${(b / MIB).toFixed(1)} MiB`;
export const loadNote = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
