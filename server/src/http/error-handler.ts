import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '@kiln/shared';
import { ZodError } from 'zod';
import { KilnError, issuesToDetails, retryLater } from '../errors.js';
import { classifyDatabaseFailure } from '../db/database-errors.js';

/** Fastify's own 4xx errors, mapped onto Kiln's stable codes. */
/** The registry code a bare HTTP status stands for, where one code owns it. */
const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_json', message: 'The Content-Length does not match the body.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The JSON body is empty.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' },
  // @fastify/static refuses non-canonical paths (`//x`, `/./x`, `/a/../x`) with 403: to the
  // client it is simply not a file (the router would not match such a path to an API route either).
  FST_STATIC_FORBIDDEN_PATH: { status: 404, code: 'not_found', message: 'Not found.' },
};

/**
 * Fastify's `frameworkErrors`: what the router refuses before any hook, route or error handler
 * runs — a malformed percent-escape (`/api%zz`, `%c0%ae`), a path parameter longer than
 * `maxParamLength`. Without it Fastify answers in its own shape (`{ error: 'Bad Request', … }`).
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_BAD_URL') {
    return reply.status(400).send({ error: { code: 'validation_failed', message: 'The request is not valid.', details: [{ path: ['url'], message: 'The path is not a valid percent-encoded UTF-8 URL.' }] } });
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.status(400).send({ error: { code: 'validation_failed', message: 'The request is not valid.', details: [{ path: ['url'], message: 'A path segment is too long.' }] } });
  }
  return reply.status(500).send({ error: { code: 'internal_error', message: `Internal error (request ${reply.request.id}).` } });
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before any route or hook sees
 * it — a NUL or a space where HTTP allows none, conflicting lengths, an unknown method, headers
 * past 16 KiB, a request too slow to arrive. Without it Fastify answers in its own shape
 * (`{ error: 'Bad Request', … }`); here the answer is Kiln's, and the connection closes.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'validation_failed';
  const { status, message } = ERROR_CODES[code];
  const error =
    code === 'validation_failed'
      ? { code, message: 'The request is not valid HTTP/1.1.', details: [{ path: ['request'], message: String(err.message).slice(0, 200) }] }
      : { code, message };
  const body = JSON.stringify({ error });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/**
 * One handler for every error: KilnError and zod errors become `{ error: { code, message,
 * details? } }` with their status; client mistakes Fastify detects keep a 4xx; anything else is
 * a 500 that says only `internal_error` and the request id, and is logged in full.
 */
export function installErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((thrown: FastifyError | KilnError | ZodError, request, reply) => {
    let err = thrown;
    // The database being away (restart, network) or every connection busy is the server's
    // temporary state, not a bug: 503 with Retry-After, so clients and proxies back off and retry.
    const outage = err instanceof KilnError ? null : classifyDatabaseFailure(err);
    if (outage === 'busy') err = retryLater('database_busy', 1);
    else if (outage === 'unavailable') err = retryLater('database_unavailable', 2);
    if (err instanceof KilnError) {
      if (err.status >= 500 && !outage && err.status !== 503) request.log.error({ err }, 'request failed');
      if (outage) request.log.warn({ err: String(thrown) }, `database ${outage}`);
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      return reply.status(err.status).send({ error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
    }
    // A PostgreSQL data exception (class 22: a value out of range, an invalid text) on a request
    // is the request's value; the body checks should have caught it, so it is logged, but the
    // client gets what it deserves: a 400, not a 500.
    const sqlstate = (err as { code?: unknown }).code;
    if (!(err instanceof KilnError) && typeof sqlstate === 'string' && /^22[0-9A-Z]{3}$/.test(sqlstate)) {
      request.log.warn({ err }, 'database refused a value from the request');
      return reply.status(400).send({ error: { code: 'validation_failed', message: 'A value in the request cannot be stored.', details: [{ path: [], message: String((err as Error).message).slice(0, 200) }] } });
    }
    if (err instanceof ZodError) {
      return reply.status(400).send({ error: { code: 'validation_failed', message: 'The request is not valid.', details: issuesToDetails(err.issues) } });
    }
    const fe = err as FastifyError;
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return reply.status(mapped.status).send({ error: { code: mapped.code, message: mapped.message } });
    if (fe instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
      return reply.status(400).send({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      // A client error no mapping above names: answered with the registry code of its status
      // when there is one, otherwise as a generic malformed request (always 400, as registered).
      const byStatus = CODE_FOR_STATUS[fe.statusCode];
      const code: ErrorCode = byStatus ?? 'bad_request';
      return reply.status(ERROR_CODES[code].status).send({ error: { code, message: fe.message || ERROR_CODES[code].message } });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal_error', message: `Internal error (request ${request.id}).` } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    // Under /api, say where the routes are described: an agent guessing paths finds its way.
    const underApi = /^\/api(\/|$)/i.test(path);
    return reply.status(404).send({
      error: {
        code: 'not_found',
        message: `No route ${request.method} ${path}.${underApi ? ' Every route is described at /api/docs (OpenAPI: /api/openapi.json; a guide for agents: /llms.txt).' : ''}`,
        ...(underApi ? { details: { docs: '/api/docs', openapi: '/api/openapi.json', guide: '/llms.txt' } } : {}),
      },
    });
  });
}
