import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Readable } from 'node:stream';
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
      const asset = await deps.uploads.upload(companyId, upload);
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
  const part = await request.file();
  if (!part) throw KilnError.of('validation_failed', 'The form has no file.', [{ path: ['file'], message: 'missing' }]);
  const { filename } = request.query as { filename?: string };
  return { body: part.file, declaredType: part.mimetype, filename: typeof filename === 'string' ? filename : part.filename };
}
