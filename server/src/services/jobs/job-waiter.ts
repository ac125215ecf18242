import { isTerminalStatus, TERMINAL_EVENT_TYPES, type JobView } from '@kiln/shared';
import type { EventHub } from '../events/event-hub.js';

/** The longest a request may wait for a job (`Prefer: wait=N`, `?wait=N`); longer asks get this. */
export const MAX_WAIT_SECONDS = 60;

/**
 * Waits until the job ends, at most `seconds`, and returns it as it is then. Waiting holds no
 * database connection: the job's terminal event arrives through the process's event hub (from
 * whichever process ran it). The subscription is made before the job is first read, so an end
 * that happens in between is not missed. The first read is of the status only (it also answers
 * 404 for an unknown job): the full view is read once, at the end. `seconds` above the maximum
 * counts as the maximum.
 */
export async function waitForJobEnd(
  deps: {
    hub: EventHub;
    getJob: (companyId: string, jobId: string) => Promise<JobView>;
    statusOf: (companyId: string, jobId: string) => Promise<{ status: JobView['status'] }>;
  },
  companyId: string,
  jobId: string,
  seconds: number,
  signal?: AbortSignal,
): Promise<JobView> {
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const unsubscribe = deps.hub.subscribe({
    companyId,
    jobId,
    deliver: (e) => {
      if (TERMINAL_EVENT_TYPES.includes(e.type)) ended();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const { status } = await deps.statusOf(companyId, jobId);
    if (!isTerminalStatus(status) && seconds > 0) {
      await Promise.race([
        end,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(MAX_WAIT_SECONDS, seconds) * 1000))),
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
      ]);
    }
    return await deps.getJob(companyId, jobId);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/**
 * `wait=N` from a `Prefer` header (RFC 7240: comma-separated preferences, parameters after `;`).
 * Null when absent or not a whole number of seconds; N above the maximum is the maximum.
 */
export function preferredWaitSeconds(prefer: string | string[] | undefined): number | null {
  const header = Array.isArray(prefer) ? prefer.join(',') : prefer;
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(?:;.*)?$/i.exec(part);
    if (m) return Math.min(MAX_WAIT_SECONDS, Number(m[1]));
  }
  return null;
}
