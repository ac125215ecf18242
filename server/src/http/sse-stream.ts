import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  send(message: { id?: string; event: string; data: unknown }): void;
  close(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

/**
 * Takes over the response for Server-Sent Events. A subscriber that stops reading must not make
 * the server hold its events without bound: once more than `maxBacklogBytes` wait in the socket
 * buffer, the connection is dropped and the client resumes later with Last-Event-ID.
 */
export function openSseStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { keepAliveMs: number; maxBacklogBytes?: number },
): SseStream {
  const maxBacklog = options.maxBacklogBytes ?? 1024 * 1024;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  res.write('retry: 2000\n\n');
  const closers: (() => void)[] = [];
  let closed = false;

  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    for (const fn of closers.splice(0)) fn();
  };
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs);
  keepAlive.unref();
  res.on('close', finish);
  request.raw.on('close', () => {
    if (!res.writableEnded) finish();
  });
  // Node sends the headers of a bodiless (HEAD) answer only when it ends: end it now rather than
  // hold a subscription, and a client, with no answer at all.
  if (request.method === 'HEAD') {
    finish();
    res.end();
  }

  function write(text: string) {
    if (closed) return;
    res.write(text);
    if (res.writableLength > maxBacklog) {
      request.log.warn({ backlog: res.writableLength }, 'SSE subscriber too slow; dropping it');
      res.destroy();
      finish();
    }
  }

  return {
    send({ id, event, data }) {
      write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (closed) return;
      finish();
      res.end();
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
