import { readdirSync, readFileSync } from 'node:fs';

/** Pids the renderer logged as spawned (each the leader of its own process group). */
export function spawnedPids(logs: string[]): number[] {
  return logs.flatMap((l) => [...l.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
}

/** Every live process (zombies included) that is one of `groups` or belongs to one of them. */
export function processesInGroups(groups: number[]): string[] {
  const left: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …" — comm may contain spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [, , pgrp] = stat.slice(close + 2).split(' ');
    if (groups.includes(Number(entry)) || groups.includes(Number(pgrp))) left.push(`${entry} ${comm}`);
  }
  return left;
}
