import { Transform, type Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { normalizeUploadType, UPLOAD_TYPES, type AssetView } from '@kiln/shared';
import { KilnError, retryLater } from '../../errors.js';
import type { Queryable } from '../jobs/job-row.js';
import type { StorageService, StoredObject } from '../storage/storage-service.js';
import type { ValidationPool } from '../../render-processes/validation-pool.js';
import { insertAsset, toAssetView } from './asset-store.js';

/** Uploads live beside generated outputs, in a namespace of their own. */
export const UPLOAD_NAMESPACE = 'uploads';
/** Bytes file-type needs to recognise every format it knows. */
const SNIFF_BYTES = 4100;

export interface UploadRequest {
  body: Readable;
  /** The Content-Type the client declared (of the body, or of the multipart file part). */
  declaredType: string | undefined;
  filename: string | undefined;
  /** From Content-Length, when the client sent one: a body that cannot fit is refused unread. */
  declaredLength?: number;
}

/**
 * Stores a caller's own file as an asset (role `input`, no job) that inputs may then reference.
 * The bytes stream into storage (counted and hashed on the way, cut off past the limit with
 * nothing left behind); binary types must be what their bytes say they are; text types and
 * images are read as what they claim to be in a validation process. A file refused after it was
 * stored is deleted before the answer.
 */
export function uploadService(deps: {
  pool: Queryable;
  storage: StorageService;
  validation: Pick<ValidationPool, 'inspectUpload'>;
  maxUploadBytes: number;
  baseUrl?: string;
}) {
  return {
    async upload(companyId: string, req: UploadRequest): Promise<AssetView> {
      const type = normalizeUploadType(req.declaredType);
      if (!type) {
        req.body.resume();
        throw KilnError.of(
          'unsupported_media_type',
          `Uploads of ${req.declaredType ? `type ${req.declaredType.slice(0, 100)}` : 'no declared type'} are not accepted; send the file's Content-Type.`,
          { accepted: Object.keys(UPLOAD_TYPES) },
        );
      }
      const rule = UPLOAD_TYPES[type]!;
      const limit = Math.min(deps.maxUploadBytes, rule.maxBytes ?? Infinity);
      if (req.declaredLength !== undefined && req.declaredLength > limit) {
        req.body.resume();
        throw tooLarge(type, limit);
      }
      const filename = (req.filename?.trim() || `upload.${defaultExtension(type)}`).slice(0, 200);

      const head = captureHead(SNIFF_BYTES);
      // A client that goes away mid-upload fails the write (and so leaves nothing stored).
      req.body.once('error', (err) => head.stream.destroy(err));
      req.body.once('aborted', () => head.stream.destroy(new Error('the client closed the upload')));
      let stored: StoredObject;
      try {
        stored = await deps.storage.write(companyId, UPLOAD_NAMESPACE, filename, req.body.pipe(head.stream), { contentType: type, maxBytes: limit });
      } catch (err) {
        if (err instanceof KilnError && err.code === 'asset_too_large') throw tooLarge(type, limit);
        throw err;
      } finally {
        req.body.unpipe(head.stream);
      }
      const discard = () => deps.storage.remove(companyId, stored.key).catch(() => undefined);

      try {
        const detected = await fileTypeFromBuffer(head.bytes());
        if (rule.check === 'binary' && !(detected && rule.sniffed!.includes(detected.mime))) {
          throw KilnError.of('unsupported_media_type', `The file was declared ${type}, but its bytes are ${detected ? detected.mime : 'not a format Kiln recognises'}.`, {
            declared: type,
            detected: detected?.mime ?? null,
          });
        }
        if (rule.check === 'text' && detected) {
          throw KilnError.of('unsupported_media_type', `The file was declared ${type}, but its bytes are ${detected.mime}.`, { declared: type, detected: detected.mime });
        }
        let metadata = {};
        if (rule.check === 'text' || rule.family === 'image') {
          const inspected = await deps.validation.inspectUpload({ contentType: type, path: ['body'], maxBytes: limit }, async () => ({
            stream: await deps.storage.read(companyId, stored.key),
            byteSize: stored.byteSize,
          }));
          if ('busy' in inspected) throw retryLater('server_busy', 2, 'Every file checker is busy; retry shortly.');
          if (!inspected.ok) {
            throw KilnError.of('validation_failed', inspected.error.message, inspected.error.details ?? [{ path: ['body'], message: inspected.error.message }]);
          }
          metadata = inspected.metadata;
        }
        const asset = await insertAsset(deps.pool, {
          companyId,
          provider: stored.provider,
          namespace: stored.namespace,
          objectKey: stored.key,
          contentType: type,
          byteSize: stored.byteSize,
          sha256: stored.sha256,
          originalFilename: filename,
          sourceTaskId: null,
          sourceJobId: null,
          role: 'input',
          metadata,
        });
        return toAssetView(asset, deps.baseUrl);
      } catch (err) {
        await discard();
        throw err;
      }
    },
  };
}

export type UploadService = ReturnType<typeof uploadService>;

function tooLarge(type: string, limit: number): KilnError {
  return KilnError.of('payload_too_large', `Uploads of ${type} may be at most ${limit} bytes.`, { limit });
}

function defaultExtension(type: string): string {
  const sub = type.split('/')[1]!;
  return { 'svg+xml': 'svg', jpeg: 'jpg', mpeg: 'mp3', 'tab-separated-values': 'tsv', markdown: 'md', plain: 'txt' }[sub] ?? sub;
}

/** Passes bytes through unchanged, keeping a copy of the first `n` (for recognising the format). */
function captureHead(n: number) {
  const kept: Buffer[] = [];
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (size < n) {
        const part = chunk.subarray(0, n - size);
        kept.push(Buffer.from(part));
        size += part.length;
      }
      cb(null, chunk);
    },
  });
  return { stream, bytes: () => Buffer.concat(kept, size) };
}
