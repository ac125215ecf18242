import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../errors.js';

/**
 * RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host header, and a server answers 400
 * otherwise. Node would answer a missing one itself with an empty body (its `requireHostHeader`
 * is turned off in app.ts so that the answer has Kiln's shape), and it keeps only the first of
 * several — while a proxy in front may read another, so a request addressed elsewhere could pass
 * for one addressed to loopback (local_trusted decides by Host).
 */
export function installHostHeaderCheck(app: FastifyInstance) {
  app.addHook('onRequest', async (request) => {
    const raw = request.raw.rawHeaders;
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
    if (hosts > 1 || (hosts === 0 && request.raw.httpVersion === '1.1')) {
      throw validationFailed([{ path: ['headers', 'host'], message: hosts > 1 ? 'more than one Host header' : 'an HTTP/1.1 request needs a Host header' }]);
    }
  });
}
