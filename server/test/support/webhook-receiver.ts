import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as sent (what a signature covers). */
  raw: string;
  body: any;
}

export interface WebhookReceiver {
  /** `http://<host>:<port>` */
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Requests to /dead/… that are still waiting for an answer. */
  hanging(): number;
  /** From now on /dead/… answers 204, and the requests left hanging are cut off. */
  revive(): void;
  /** /flaky/… answers 503 this many more times. */
  failNext(n: number): void;
  /** Resolves once `pred` holds on what was received. */
  waitFor(pred: (r: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A webhook endpoint on loopback. By path: `/hook…` 204; `/flaky…` 503 while failures are
 * left, then 204; `/redirect…` 302 to `/redirected` (which must never be requested); `/dead…`
 * never answers (until revived); `/endless…` 200 with a body that never ends.
 */
export async function startWebhookReceiver(host = '127.0.0.1'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const hangingResponses = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  let failuresLeft = 0;
  let dead = true;

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        /* recorded raw */
      }
      const path = req.url!;
      received.push({ path, headers: req.headers, raw, body });
      if (path.startsWith('/flaky') && failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(503).end();
      } else if (path.startsWith('/redirect')) {
        res.writeHead(302, { location: '/redirected' }).end();
      } else if (path.startsWith('/dead') && dead) {
        hangingResponses.add(res);
        res.on('close', () => hangingResponses.delete(res));
      } else if (path.startsWith('/endless')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        pump();
      } else res.writeHead(204).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}`,
    port,
    received,
    hanging: () => hangingResponses.size,
    revive() {
      dead = false;
      for (const res of hangingResponses) res.destroy();
    },
    failNext(n) {
      failuresLeft = n;
    },
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > deadline) throw new Error('the webhook receiver did not get what was expected in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
