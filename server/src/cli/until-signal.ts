/**
 * Keeps a long-running process (serve, worker) alive until SIGINT/SIGTERM, then runs `stop`,
 * which hands jobs back, closes the API and stops the embedded PostgreSQL this process started.
 */
export function untilSignal(stop: () => Promise<void>): Promise<number> {
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
