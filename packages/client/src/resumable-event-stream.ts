import { TERMINAL_EVENT_TYPES, type JobEvent, type LiveEventType } from '@kiln/shared';
import { KilnApiError } from './kiln-api-error.js';
import { isAbortError, type HttpTransport } from './http-transport.js';
import { parseSse, type SseMessage } from './sse-parser.js';

export interface ReconnectOptions {
  /** Delay before the first reconnect; doubles (with jitter) per failed attempt. Default 250 ms. */
  initialDelayMs?: number;
  /** Cap on that delay. Default 5000 ms. */
  maxDelayMs?: number;
  /**
   * Consecutive failed connection attempts before giving up with the last error. A connection
   * that delivers anything resets the count. Default 10 (about half a minute of outage).
   */
  maxAttempts?: number;
}

export interface ResumableStreamOptions<S> {
  path: string;
  companyId: string;
  /** Resume after this event id (what the server takes as `Last-Event-ID`). */
  lastEventId?: string;
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
  /** A job's stream ends after its terminal event; the company stream never ends by itself. */
  endsAfterTerminal: boolean;
  /** Builds the surfaced snapshot item and says whether the stream's subject has already ended. */
  snapshot: (data: unknown) => { item: S; terminal: boolean };
}

export type StreamItem<S> = S | JobEvent;

/**
 * How many recent ids dedupe remembers. A replay only overlaps what was seen just before the
 * drop, and the company stream never ends, so remembering everything would grow without bound.
 */
const DEDUPE_WINDOW = 10_000;

/** Server statuses worth retrying on reconnect; anything else (404, 401, …) will not fix itself. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * An SSE stream that survives dropped connections. After a network error, a retryable status
 * (5xx, 429), or the body ending before the terminal event, it reconnects with `Last-Event-ID` set
 * to the newest event id it has yielded, after a short jittered backoff. Ids already yielded are
 * skipped, so each event comes out exactly once even if the server replays more than asked. The
 * snapshot is surfaced once, from the first connection; later snapshots only serve to notice that
 * the job ended meanwhile. If the very first connection fails there is nothing to resume — the URL,
 * key or id is wrong far more often than the server is restarting — so that error is thrown at once.
 */
export async function* resumableEventStream<S>(http: HttpTransport, o: ResumableStreamOptions<S>): AsyncGenerator<StreamItem<S>> {
  const initialDelay = o.reconnect?.initialDelayMs ?? 250;
  const maxDelay = o.reconnect?.maxDelayMs ?? 5000;
  const maxAttempts = o.reconnect?.maxAttempts ?? 10;
  const seen = recentIds(DEDUPE_WINDOW);
  let lastEventId = o.lastEventId;
  let snapshotSurfaced = false;
  let connectedOnce = false;
  let failures = 0;

  for (;;) {
    o.signal?.throwIfAborted();
    // One controller per connection: aborting it on the way out closes the socket, whether the
    // consumer broke out of the loop, aborted its signal, or we are about to reconnect.
    const connection = new AbortController();
    const onCallerAbort = () => connection.abort(o.signal!.reason);
    o.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let failure: unknown = null;
    let endedCleanly = false;
    let subjectEnded = false;
    let messages: AsyncGenerator<SseMessage> | null = null;
    try {
      try {
        const res = await http.send('GET', o.path, {
          headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal: connection.signal,
        });
        if (!res.body) throw new KilnApiError(res.status, 'unexpected_response', 'The event stream response has no body.');
        connectedOnce = true;
        messages = parseSse(res.body);
      } catch (err) {
        failure = err;
      }
      while (messages) {
        let next: IteratorResult<SseMessage>;
        try {
          next = await messages.next();
        } catch (err) {
          failure = err;
          break;
        }
        if (next.done) {
          endedCleanly = true;
          break;
        }
        failures = 0; // this connection works
        const msg = next.value;
        if (msg.event === 'snapshot') {
          const snap = o.snapshot(JSON.parse(msg.data));
          subjectEnded = snap.terminal;
          if (!snapshotSurfaced) {
            snapshotSurfaced = true;
            yield snap.item;
          }
          continue;
        }
        if (msg.id === undefined || seen.has(msg.id)) continue;
        seen.add(msg.id);
        lastEventId = newer(lastEventId, msg.id);
        const event = toJobEvent(msg, o.companyId);
        yield event;
        if (o.endsAfterTerminal && TERMINAL_EVENT_TYPES.includes(event.type)) return;
      }
    } finally {
      o.signal?.removeEventListener('abort', onCallerAbort);
      connection.abort();
      await messages?.return(undefined).catch(() => {});
    }

    if (o.signal?.aborted) throw o.signal.reason;
    // The server closes a job's stream right after the snapshot when we resumed past its end.
    if (endedCleanly && o.endsAfterTerminal && subjectEnded) return;
    if (failure !== null && (!connectedOnce || !isRetryable(failure))) throw failure;
    failures += 1;
    if (failures > maxAttempts) {
      throw failure ?? new KilnApiError(0, 'network_error', `The event stream kept closing early (${maxAttempts} reconnects).`);
    }
    const delay = Math.min(maxDelay, initialDelay * 2 ** (failures - 1));
    await sleep(delay * (0.8 + Math.random() * 0.4), o.signal);
  }
}

/** A set that forgets its oldest entries beyond `capacity` (Set keeps insertion order). */
function recentIds(capacity: number) {
  const ids = new Set<string>();
  return {
    has: (id: string) => ids.has(id),
    add(id: string) {
      ids.add(id);
      if (ids.size > capacity) ids.delete(ids.values().next().value!);
    },
  };
}

function isRetryable(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (err instanceof KilnApiError) return err.status === 0 || RETRYABLE_STATUS.has(err.status);
  // Errors thrown while reading the body (socket reset, "terminated") are network failures.
  return err instanceof TypeError || (typeof err === 'object' && err !== null && 'code' in err);
}

/** Event ids are bigserials; compare them as integers, not strings ("10" > "9"). */
function newer(a: string | undefined, b: string): string {
  if (a === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return b;
  return BigInt(b) > BigInt(a) ? b : a;
}

/** The SSE data is the stored payload plus `eventId` and `createdAt`; put the JobEvent back together. */
function toJobEvent(msg: SseMessage, companyId: string): JobEvent {
  const { eventId: _eventId, createdAt, ...payload } = JSON.parse(msg.data) as JobEvent['payload'] & { eventId?: string; createdAt?: string };
  return {
    id: msg.id!,
    companyId,
    jobId: payload.jobId,
    type: msg.event as LiveEventType,
    payload,
    createdAt: createdAt ?? new Date().toISOString(),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
