import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON (or there is none). */
  json: any;
}

export interface RawRequest {
  port: number;
  method: string;
  /** Sent exactly as given: no `URL` parsing, so `..`, `.`, `//` and percent-escapes reach the server as written. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Replaces the Host header node:http would send (`127.0.0.1:<port>`). */
  host?: string;
}

/**
 * One request over loopback with the path verbatim (`fetch` and `URL` normalise dot segments and
 * re-encode characters, which would test the client instead of the server). An event stream is
 * cut off once its headers arrive: the status is what matters, and a stream never ends by itself.
 */
export function rawRequest(req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (req.host !== undefined) headers.host = req.host;
    if (req.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(req.body));
    }
    const r = http.request({ host: '127.0.0.1', port: req.port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode!, headers: res.headers, text: '', json: undefined });
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    r.setTimeout(30_000, () => r.destroy(new Error(`${req.method} ${req.path}: no answer in 30 s`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * Writes `head` (request line and headers, CRLF-separated, ending in an empty line) on a fresh
 * socket and returns the status of the answer: for requests node:http refuses to send, such as
 * one without a Host header.
 */
export function rawSocketStatus(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let received = '';
    socket.setEncoding('latin1');
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer in 30 s')));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without a status line: ${JSON.stringify(received.slice(0, 200))}`)));
  });
}

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}
