import { KilnApiError } from '@kiln/client';

export type StreamState = 'connecting' | 'open' | 'closed' | 'error';

export interface FollowOptions<T> {
  /** Opens the SDK's iterator, resuming after `lastEventId` when there is one. */
  open(lastEventId: string | undefined, signal: AbortSignal): AsyncGenerator<T>;
  onItem(item: T): void;
  onState(state: StreamState, error?: unknown): void;
  /** The company stream never ends on purpose: if it does, open it again. A job's stream is done. */
  reopenAfterEnd: boolean;
  signal: AbortSignal;
}

const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 30_000;

/**
 * Runs one of the SDK's event iterators (`events()`, `companyEvents()`) for as long as a page
 * shows it. The SDK already reconnects through short drops and yields every event exactly once;
 * when it gives up (a long outage, a server restart) the page does not: it waits and opens the
 * iterator again after the last event it saw, so nothing is missed. An answer that will not change
 * by retrying (401, 403, 404) stops it, with the error in `onState`.
 */
export async function followStream<T extends { type: string }>(o: FollowOptions<T>): Promise<void> {
  let lastEventId: string | undefined;
  let delay = FIRST_RETRY_MS;
  while (!o.signal.aborted) {
    o.onState('connecting');
    try {
      let opened = false;
      for await (const item of o.open(lastEventId, o.signal)) {
        if (!opened) {
          opened = true;
          delay = FIRST_RETRY_MS;
          o.onState('open');
        }
        if ('id' in item && typeof item.id === 'string') lastEventId = item.id;
        o.onItem(item);
      }
      if (!o.reopenAfterEnd) return o.onState('closed');
    } catch (err) {
      if (o.signal.aborted) return;
      o.onState('error', err);
      if (err instanceof KilnApiError && [401, 403, 404].includes(err.status)) return;
    }
    await sleep(delay, o.signal);
    delay = Math.min(MAX_RETRY_MS, delay * 2);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
