import { authHeaders } from './api-key.js';
import { ApiError } from './http.js';

export interface SseMessage {
  id: string | null;
  event: string;
  data: unknown;
}

export type StreamState = 'connecting' | 'open' | 'closed' | 'error';

export interface EventStreamOptions {
  onMessage(message: SseMessage): void;
  onState?(state: StreamState, error?: unknown): void;
  /**
   * Asked when the server ends the stream: reconnect (resuming after the last event id) or stop.
   * A job's stream ends after its terminal event, the company stream never does on purpose.
   */
  reconnectAfterEnd(): boolean;
}

export interface EventStream {
  close(): void;
}

/**
 * Server-Sent Events over fetch + ReadableStream rather than EventSource, because EventSource
 * cannot send the `Authorization` header that authenticated mode needs. Resumes like EventSource
 * does: after a drop it reconnects with `Last-Event-ID`, waiting the server's `retry:` interval.
 * A 4xx answer stops it (reconnecting would not help); the caller sees the error in onState.
 */
export function openEventStream(path: string, options: EventStreamOptions): EventStream {
  const abort = new AbortController();
  let lastEventId: string | null = null;
  let retryMs = 2000;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  async function run() {
    while (!abort.signal.aborted) {
      try {
        options.onState?.('connecting');
        const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const res = await fetch(path, { headers, signal: abort.signal, cache: 'no-store' });
        if (!res.ok || !res.body) throw await ApiError.fromResponse(res);
        options.onState?.('open');
        await readMessages(res.body, (message) => {
          if (message.id) lastEventId = message.id;
          options.onMessage(message);
        }, (ms) => (retryMs = ms));
        if (abort.signal.aborted) return;
        if (!options.reconnectAfterEnd()) {
          options.onState?.('closed');
          return;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        options.onState?.('error', err);
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) return;
      }
      await sleep(retryMs);
    }
  }

  void run();
  return { close: () => abort.abort() };
}

/** The event-stream format: lines of `field: value`, a blank line dispatches the message. */
async function readMessages(body: ReadableStream<Uint8Array>, dispatch: (m: SseMessage) => void, setRetry: (ms: number) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) dispatch({ id, event: event || 'message', data: parseData(data.join('\n')) });
        event = '';
        data = [];
        id = null;
        continue;
      }
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const raw = colon < 0 ? '' : line.slice(colon + 1);
      const val = raw.startsWith(' ') ? raw.slice(1) : raw;
      if (field === 'event') event = val;
      else if (field === 'data') data.push(val);
      else if (field === 'id') id = val;
      else if (field === 'retry' && /^\d+$/.test(val)) setRetry(Number(val));
    }
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
