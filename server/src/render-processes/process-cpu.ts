import { readFile } from 'node:fs/promises';

/**
 * Linux reports a process's CPU time in clock ticks; USER_HZ is 100 on every architecture Node
 * supports there (the kernel fixes it for user space, whatever its internal HZ).
 */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system, all threads) a process has used so far, in ms; null where /proc is
 * not there (not Linux) or the process is gone. Fields 14 and 15 of /proc/<pid>/stat, counted
 * after the command name, which may itself hold spaces and parentheses.
 */
export async function processCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * MS_PER_TICK : null;
  } catch {
    return null;
  }
}
