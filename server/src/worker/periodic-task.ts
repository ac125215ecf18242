export interface PeriodicTask {
  start(): void;
  /** Runs the task now, unless a run is already in flight (then that run is awaited). */
  runNow(): Promise<void>;
  /** Stops the timer and waits for a run in flight. */
  stop(): Promise<void>;
}

/**
 * A task run every `intervalMs`, never twice at once (a slow run skips ticks instead of piling
 * up), whose failures are reported to `onError` rather than thrown from a timer.
 */
export function periodicTask(intervalMs: number, task: () => Promise<unknown>, onError: (err: unknown) => void): PeriodicTask {
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let stopped = false;

  const runNow = () => {
    if (inFlight) return inFlight;
    if (stopped) return Promise.resolve();
    inFlight = task()
      .then(() => undefined, onError)
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  return {
    start() {
      if (timer || stopped) return;
      timer = setInterval(() => void runNow(), intervalMs);
      timer.unref();
    },
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await inFlight;
    },
  };
}
