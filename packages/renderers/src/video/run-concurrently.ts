/**
 * Runs `count` tasks, at most `limit` at a time, and returns their results in order.
 *
 * Each task gets a signal that fires when the parent's does or when any sibling fails, so one bad
 * scene stops the others instead of leaving them rendering (or a child process running) after the
 * job has already failed. The first failure is rethrown only once every started task has settled.
 */
export async function runConcurrently<T>(
  count: number,
  limit: number,
  parentSignal: AbortSignal,
  task: (index: number, signal: AbortSignal) => Promise<T>,
): Promise<T[]> {
  const local = new AbortController();
  const signal = AbortSignal.any([parentSignal, local.signal]);
  const results: T[] = new Array(count);
  let next = 0;
  let failure: { error: unknown } | undefined;

  const worker = async () => {
    while (next < count && !signal.aborted) {
      const index = next++;
      try {
        results[index] = await task(index, signal);
      } catch (error) {
        failure ??= { error };
        local.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (parentSignal.aborted) throw parentSignal.reason ?? new Error('aborted');
  if (failure) throw failure.error;
  return results;
}
