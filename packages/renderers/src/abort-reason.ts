/**
 * Runs `work` and, if the signal fired meanwhile, rejects with the signal's reason whatever the
 * library in the middle threw (resvg rejects with its own "AbortError", streams with
 * ERR_STREAM_PREMATURE_CLOSE, Chromium with "Target closed"). The runner tells a cancel or a
 * timeout from a failure by that reason, so it must arrive intact.
 */
export async function withAbortReason<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw err;
  }
}
