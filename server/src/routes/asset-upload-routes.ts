import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { PassThrough, type Readable } from 'node:stream';
import { KilnError } from '../errors.js';
import type { AppDeps } from '../app-deps.js';
import type { UploadRequest } from '../services/assets/upload-service.js';
import { companyFromRequest } from './company-scope.js';

/**
 * `POST /api/companies/:companyId/assets`: the file as the raw body (its type as Content-Type, its
 * name as `?filename=`), or as the `file` field of a `multipart/form-data` form (browsers). Its
 * own scope, because only here may a body be anything but JSON — and here it is never buffered:
 * the request stream goes straight to the upload service.
 */
export function assetUploadRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    // busboy's own per-file limit would silently truncate; the storage limit (which refuses
    // instead) comes first, so busboy's is set well above it.
    await app.register(multipart, { limits: { files: 1, fields: 20, fileSize: deps.config.maxUploadBytes * 2 + 1 } });
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    app.post('/api/companies/:companyId/assets', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const upload = request.isMultipart() ? await fromMultipart(request) : fromRawBody(request);
      const asset = await deps.uploads.upload(companyId, upload).catch((err: unknown) => {
        // Refused before the body was read to its end (too large, wrong type): the rest of it is
        // still on the socket, where the next request on this connection would wait behind it
        // for ever. Closing after the answer is cheaper than reading what we already refused.
        if (!request.raw.complete) reply.header('connection', 'close');
        throw err;
      });
      return reply.status(201).header('location', `/api/companies/${companyId}/assets/${asset.id}`).send(asset);
    });
  };
}

function fromRawBody(request: FastifyRequest): UploadRequest {
  const { filename } = request.query as { filename?: string };
  const length = Number(request.headers['content-length']);
  if (!request.body) throw KilnError.of('validation_failed', 'Send the file as the request body.', [{ path: ['body'], message: 'empty' }]);
  return {
    body: request.body as Readable,
    declaredType: request.headers['content-type'],
    filename: typeof filename === 'string' ? filename : undefined,
    declaredLength: Number.isFinite(length) ? length : undefined,
  };
}

async function fromMultipart(request: FastifyRequest): Promise<UploadRequest> {
  const part = await request.file().catch((err: unknown) => {
    throw formError(err);
  });
  if (!part) throw KilnError.of('validation_failed', 'The form has no file.', [{ path: ['file'], message: 'missing' }]);
  const { filename } = request.query as { filename?: string };
  // A form that breaks off inside the file is reported on the file's stream: it reaches the
  // upload (which stores nothing) as the client's mistake, not as a failure of the server.
  const body = new PassThrough();
  part.file.on('error', (err) => body.destroy(formError(err)));
  part.file.pipe(body);
  return { body, declaredType: part.mimetype, filename: typeof filename === 'string' ? filename : part.filename };
}

/**
 * What busboy and @fastify/multipart refuse — no boundary, a form cut off or malformed, one of
 * the form limits — is the request's fault: 400 (413 for a limit), never a 500.
 */
function formError(err: unknown): Error {
  if (err instanceof KilnError) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 500) return err as Error;
  const message = `The form is not valid multipart/form-data: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
  if (status === 413) return KilnError.of('payload_too_large', message);
  return KilnError.of('validation_failed', message, [{ path: ['body'], message }]);
}
