import { pipeline, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createByteMeter } from './byte-meter.js';
import type { ByteRange, PutResult, StorageProvider } from './storage-provider.js';

export interface S3ProviderOptions {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, R2, …); unset → AWS. */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (most self-hosted servers). */
  forcePathStyle?: boolean;
  /** Prepended to every key as is (end it with `/` for a folder) and stripped again in `list()`. */
  prefix?: string;
  /** Explicit credentials; unset → the SDK's default chain (env, shared files, SSO, instance role). */
  credentials?: S3ClientConfig['credentials'];
  /** Bytes per multipart part (at least 5 MiB, S3's minimum). */
  partSize?: number;
  /** Parts uploaded at once; memory held per upload is about `partSize × (queueSize + 1)`. */
  queueSize?: number;
  /** Keys (or uploads) asked for per list request, at most 1000; tests lower it to exercise paging. */
  pageSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's limit on a key's length, prefix included. */
const MAX_KEY_BYTES = 1024;

/**
 * S3 and S3-compatible storage. `put` streams through a multipart upload (a single PutObject
 * when the output fits in one part) while counting and hashing; when the size limit is passed,
 * the signal fires, or the source fails, the upload is aborted before `put` rejects, so neither
 * an object nor an in-progress multipart upload is left. An upload cut short by a crash is
 * aborted later by `sweepPartial`.
 *
 * @example
 *   const provider = createS3Provider({ bucket: 'kiln', region: 'us-east-1', prefix: 'prod/' });
 *   const { byteSize, sha256 } = await provider.put('c1/generated/…/card.png', stream, { contentType: 'image/png', maxBytes });
 */
export function createS3Provider(options: S3ProviderOptions): StorageProvider {
  const Bucket = options.bucket;
  const prefix = options.prefix ?? '';
  const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE);
  const queueSize = options.queueSize ?? 4;
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Recent SDKs add CRC checksums (and aws-chunked bodies) to every upload by default; many
    // S3-compatible servers reject them. Integrity is covered by our own sha256 and the ETags.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  /**
   * Kiln makes keys itself, but a `.` or `..` segment could still be normalised away by an HTTP
   * layer and step outside the prefix, so such keys are refused like local disk refuses them.
   */
  function objectKey(key: string): string {
    const full = prefix + key;
    const segments = key.split('/');
    if (!key || key.startsWith('/') || key.includes('\0') || segments.some((s) => s === '.' || s === '..') || Buffer.byteLength(full) > MAX_KEY_BYTES) {
      throw new Error(`invalid storage key: ${key}`);
    }
    return full;
  }

  async function abortUpload(Key: string, UploadId: string): Promise<boolean> {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      return true;
    } catch (err) {
      // Another worker's sweeper got there first.
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  return {
    name: 's3',

    async put(key, body, { contentType, maxBytes, signal }): Promise<PutResult> {
      const Key = objectKey(key);
      if (signal?.aborted) {
        body.destroy();
        throw abortError(signal);
      }
      const meter = createByteMeter(maxBytes);
      // The first error to stop the stream is the one worth reporting (size limit, abort,
      // renderer failure); the upload only sees its echo.
      let streamError: unknown = null;
      pipeline(body, meter.stream, (err) => {
        if (err && !streamError) streamError = err;
      });
      // Failing the stream, not calling `Upload.abort()`, is deliberate: `abort()` settles
      // `done()` at once while parts are still in flight and sends AbortMultipartUpload later,
      // whereas a failed source makes `done()` wait for in-flight parts, abort the multipart
      // upload, and only then reject — so when `put` rejects, nothing is left.
      const onAbort = () => {
        const err = abortError(signal!);
        streamError ??= err;
        meter.stream.destroy(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const upload = new Upload({
        client,
        params: { Bucket, Key, Body: meter.stream, ContentType: contentType },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        const reason = streamError ?? err;
        meter.stream.destroy();
        body.destroy();
        throw reason;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      // Aborted after the last byte but before S3 confirmed: the object exists; take it back.
      if (signal?.aborted) {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
        throw abortError(signal);
      }
      return meter.result();
    },

    async get(key, range?: ByteRange): Promise<Readable> {
      const res = await client.send(
        new GetObjectCommand({ Bucket, Key: objectKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      // In Node the SDK's body is an http.IncomingMessage; anything else is a bug worth a clear error.
      if (!(res.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
      return res.Body;
    },

    async head(key) {
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return { byteSize: res.ContentLength ?? 0, modifiedAt: res.LastModified ?? new Date(0) };
      } catch (err) {
        if (statusOf(err) === 404) return null;
        throw err;
      }
    },

    async delete(key) {
      // S3 answers 204 for a missing key too, so deleting twice is fine, as on local disk.
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },

    async *list() {
      const pages = paginateListObjectsV2({ client, pageSize }, { Bucket, Prefix: prefix || undefined });
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (!o.Key?.startsWith(prefix)) continue;
          yield { key: o.Key.slice(prefix.length), modifiedAt: o.LastModified ?? new Date(0) };
        }
      }
    },

    async sweepPartial(olderThanMs) {
      // `Initiated` is the store's clock; the grace period (an hour by default) dwarfs any skew.
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (;;) {
        const page = await client.send(
          new ListMultipartUploadsCommand({ Bucket, Prefix: prefix || undefined, KeyMarker, UploadIdMarker, MaxUploads: pageSize }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() >= cutoff) continue;
          if (await abortUpload(u.Key, u.UploadId)) removed++;
        }
        // Markers name the last upload seen, so aborting the ones before them does not shift pages.
        if (!page.IsTruncated || !page.NextKeyMarker) return removed;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    },

    async presignGet(key, { expiresInSeconds, contentType, contentDisposition }) {
      const command = new GetObjectCommand({
        Bucket,
        Key: objectKey(key),
        ResponseContentType: contentType,
        ResponseContentDisposition: contentDisposition,
      });
      return getSignedUrl(client, command, { expiresIn: expiresInSeconds });
    },
  };
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The upload was aborted.', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}
