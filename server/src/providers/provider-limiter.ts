/**
 * At most `size` calls to one provider at once in this process. The worker's slot group (one per
 * provider, sized `maxConcurrent`) already keeps claims within that for jobs on their kind's default
 * provider; this also bounds jobs that name another provider, which the claim loop counts in
 * their kind's group (a slot group belongs to a kind, not to a job's input). Waiting ends when
 * the job is aborted.
 */
export function createProviderLimiter(size: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async acquire(signal: AbortSignal): Promise<() => void> {
      if (signal.aborted) throw signal.reason;
      if (active < size) {
        active++;
        return once(release);
      }
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal.removeEventListener('abort', onAbort);
          active++;
          resolve();
        };
        const onAbort = () => {
          const i = waiting.indexOf(go);
          if (i >= 0) waiting.splice(i, 1);
          reject(signal.reason);
        };
        waiting.push(go);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      return once(release);
    },
    active: () => active,
  };
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
