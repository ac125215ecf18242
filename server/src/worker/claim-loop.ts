import type { JobRow, Queryable } from '../services/jobs/job-row.js';
import { claimQueuedJobs } from '../services/jobs/job-lifecycle.js';

export interface ClaimLoop {
  /** Claims now (or right after the claim in flight) while this worker has free slots. */
  trigger(): void;
  /** No more claims; resolves once a claim in flight has handed its jobs over. */
  stop(): Promise<void>;
  inFlight(): boolean;
}

/**
 * Claims jobs while slots are free: woken by NOTIFY (a job was queued), by a finished job, by the
 * reaper, and by a poll as backstop. Claims are one at a time; a trigger during a claim makes the
 * loop go round once more instead of starting a second one. Claimed jobs are handed to
 * `onClaimed` before the claim counts as finished, so `stop()` then sees every job it must abort.
 */
export function createClaimLoop(deps: {
  pool: Queryable;
  workerId: string;
  /** The kinds this loop claims (one slot group's). */
  kinds: string[];
  freeSlots(): number;
  ready(): boolean;
  onClaimed(job: JobRow): void;
  onError(err: unknown): void;
}): ClaimLoop {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function loop() {
    try {
      do {
        again = false;
        const free = deps.freeSlots();
        if (free <= 0 || !deps.ready() || stopped) break;
        const jobs = await claimQueuedJobs(deps.pool, deps.workerId, free, deps.kinds);
        for (const job of jobs) deps.onClaimed(job);
        if (jobs.length === free) again = true;
      } while (again && !stopped);
    } catch (err) {
      deps.onError(err);
    }
  }

  return {
    trigger() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      // Cleared in a callback, never inside loop(): a loop with nothing to do finishes
      // synchronously, before `running` would even have been assigned.
      running = loop().finally(() => {
        running = null;
      });
    },
    async stop() {
      stopped = true;
      await running;
    },
    inFlight: () => running !== null,
  };
}
