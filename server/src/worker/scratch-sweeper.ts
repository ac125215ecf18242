import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { workerLockIsFree } from '../services/jobs/job-queue.js';
import type { TransactionRunner } from '../services/jobs/job-lifecycle.js';

/** A worker's scratch root is `<dataDir>/tmp/w<lockKey>`; the lock key says whether it lives. */
export const scratchRootName = (lockKey: number) => `w${lockKey}`;

/** Scratch folders younger than this are left alone (a worker may be starting up). */
const MIN_AGE_MS = 60_000;

/**
 * Removes the scratch folders of workers that are gone: a SIGKILLed worker never runs the
 * `finally` that removes its jobs' folders. A folder's owner is dead when its advisory lock is
 * free — the same test the reaper uses. Returns how many folders were removed.
 */
export async function sweepDeadWorkersScratch(deps: { tmpDir: string; selfLockKey: number; tx: TransactionRunner }): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(deps.tmpDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of entries) {
    const m = /^w(\d+)$/.exec(name);
    const full = path.join(deps.tmpDir, name);
    const info = await stat(full).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < MIN_AGE_MS) continue;
    if (m) {
      const key = Number(m[1]);
      if (key === deps.selfLockKey) continue;
      if (!(await deps.tx.inTransaction((q) => workerLockIsFree(q, key)))) continue;
    } else if (!name.startsWith('job-')) {
      continue; // not ours
    }
    await rm(full, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
