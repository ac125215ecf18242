/** Exponential backoff with full jitter on the upper half: 1 s, 2 s, 4 s … capped at 60 s. */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
