import http from 'node:http';

export interface SseMessage {
  id?: string;
  event: string;
  data: any;
  /** Date.now() when the message was parsed. */
  receivedAt?: number;
}

export interface SseConnection {
  status: number;
  headers: http.IncomingHttpHeaders;
  messages: SseMessage[];
  comments: string[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Resolves once a message matching `pred` has arrived. */
  waitFor(pred: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

/** A minimal SSE reader over a raw socket (so tests see exactly what the server sent and when it closed). */
export function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      const comments: string[] = [];
      const waiters: { pred: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }[] = [];
      let buffer = '';
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let idx: number;
        while ((idx = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const msg: Partial<SseMessage> & { dataLines: string[] } = { dataLines: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) msg.id = line.slice(4);
            else if (line.startsWith('event: ')) msg.event = line.slice(7);
            else if (line.startsWith('data: ')) msg.dataLines.push(line.slice(6));
          }
          if (!msg.event) continue;
          const m: SseMessage = { id: msg.id, event: msg.event, data: JSON.parse(msg.dataLines.join('\n')), receivedAt: Date.now() };
          messages.push(m);
          for (const w of [...waiters]) if (w.pred(m)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        comments,
        ended,
        waitFor(pred, timeoutMs = 20_000) {
          const found = messages.find(pred);
          if (found) return Promise.resolve(found);
          return new Promise((res2, rej2) => {
            const t = setTimeout(() => rej2(new Error(`no matching SSE message; got ${messages.map((m) => m.event).join(', ')}`)), timeoutMs);
            waiters.push({ pred, resolve: (m) => { clearTimeout(t); res2(m); } });
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
