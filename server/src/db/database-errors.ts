/**
 * Failures that say the database could not be reached or used right now, as opposed to a query
 * that failed on its own merits. The HTTP layer answers them with 503 and Retry-After; the
 * worker waits and tries again instead of spending a job's attempt on them.
 */
export type DatabaseOutage = 'unavailable' | 'busy';

const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATEs: connection exceptions (class 08) and the server shutting down or starting up. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P01|57P02|57P03|57P05)$/;
const UNAVAILABLE_MESSAGE = /Connection terminated|not queryable|connection timeout|terminating connection|the database system is (starting up|shutting down|in recovery)/i;

export function classifyDatabaseFailure(err: unknown): DatabaseOutage | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  // pg-pool: every connection is in use and none came free within the acquire timeout.
  if (message === 'timeout exceeded when trying to connect') return 'busy';
  if (code === '53300') return 'busy'; // too_many_connections
  if (UNREACHABLE_ERRNO.has(code) || UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
  const cause = (e as { cause?: unknown }).cause;
  return cause && cause !== err ? classifyDatabaseFailure(cause) : null;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/**
 * Runs `fn`, and while it fails because the database is out of reach, runs it again with backoff
 * (0.25 s doubling to 2 s) until `deadline` (epoch ms) or `signal`. `fn` must be safe to repeat;
 * other failures are thrown at once.
 */
export async function retryThroughOutage<T>(fn: () => Promise<T>, options: { deadline: number; signal?: AbortSignal; onRetry?: (err: unknown) => void }): Promise<T> {
  let delay = 250;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!classifyDatabaseFailure(err) || Date.now() + delay > options.deadline || options.signal?.aborted) throw err;
      options.onRetry?.(err);
      await sleep(delay, options.signal);
      delay = Math.min(2000, delay * 2);
    }
  }
}
