import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * s3rver keeps an in-progress multipart upload as `<dir>/<bucket>/._S3rver_uploads/<uploadId>/`
 * with a `key` file written at CreateMultipartUpload and one file per part; CompleteMultipartUpload
 * removes the folder. This layout is s3rver's, pinned by the exact devDependency version.
 */
export function uploadsDir(directory: string, bucket: string): string {
  return path.join(directory, bucket, '._S3rver_uploads');
}

/** The slice of a Koa context the shim reads and writes. */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/**
 * Koa middleware placed in front of s3rver that answers the two multipart calls it lacks:
 * ListMultipartUploads (`GET /<bucket>?uploads`, with `prefix`, `max-uploads`, `key-marker`,
 * `upload-id-marker`) and AbortMultipartUpload (`DELETE /<bucket>/<key>?uploadId=`), over
 * s3rver's own upload folder so both agree with what s3rver does. Uploads are ordered by key,
 * then upload id (S3 orders equal keys by start time; ids are enough for markers to work).
 * `Initiated` is the `key` file's modification time, which tests move back to age an upload.
 * Signatures are not checked on these two calls; everything else goes through s3rver's checks.
 */
export function multipartUploadsShim(directory: string) {
  async function pending(bucket: string): Promise<PendingUpload[]> {
    const dir = uploadsDir(directory, bucket);
    const ids = await readdir(dir).catch(() => [] as string[]);
    const out: PendingUpload[] = [];
    for (const uploadId of ids) {
      const keyFile = path.join(dir, uploadId, 'key');
      const [key, s] = await Promise.all([readFile(keyFile, 'utf8').catch(() => null), stat(keyFile).catch(() => null)]);
      if (key !== null && s) out.push({ key, uploadId, initiated: s.mtime });
    }
    return out.sort((a, b) => (a.key === b.key ? cmp(a.uploadId, b.uploadId) : cmp(a.key, b.key)));
  }

  async function list(ctx: KoaContext, bucket: string) {
    const q = (name: string) => {
      const v = ctx.query[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const prefix = q('prefix') ?? '';
    const maxUploads = Math.min(1000, Math.max(0, Number(q('max-uploads') ?? 1000) || 1000));
    const keyMarker = q('key-marker') ?? '';
    const uploadIdMarker = q('upload-id-marker') ?? '';
    const after = (u: PendingUpload) =>
      !keyMarker || u.key > keyMarker || (u.key === keyMarker && uploadIdMarker !== '' && u.uploadId > uploadIdMarker);
    const matching = (await pending(bucket)).filter((u) => u.key.startsWith(prefix) && after(u));
    const page = matching.slice(0, maxUploads);
    const truncated = matching.length > page.length;
    const last = page[page.length - 1];
    const el = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      el('Bucket', bucket) +
      el('KeyMarker', keyMarker) +
      el('UploadIdMarker', uploadIdMarker) +
      (truncated && last ? el('NextKeyMarker', last.key) + el('NextUploadIdMarker', last.uploadId) : '') +
      el('Prefix', prefix) +
      el('MaxUploads', maxUploads) +
      el('IsTruncated', truncated) +
      page
        .map((u) => `<Upload>${el('Key', u.key)}${el('UploadId', u.uploadId)}${el('Initiated', u.initiated.toISOString())}${el('StorageClass', 'STANDARD')}</Upload>`)
        .join('') +
      '</ListMultipartUploadsResult>';
  }

  async function abort(ctx: KoaContext, bucket: string, key: string, uploadId: string) {
    const dir = path.join(uploadsDir(directory, bucket), path.basename(uploadId));
    const stored = await readFile(path.join(dir, 'key'), 'utf8').catch(() => null);
    if (stored === null || stored !== key) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
        `<Message>The specified upload does not exist.</Message><UploadId>${xmlEscape(uploadId)}</UploadId></Error>`;
      return;
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  }

  return async function shim(ctx: KoaContext, next: () => Promise<void>) {
    const m = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
    if (m) {
      const bucket = decodeURIComponent(m[1]!);
      const key = m[2] ? decodeURIComponent(m[2]) : '';
      const uploadId = ctx.query.uploadId;
      if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) return list(ctx, bucket);
      if (ctx.method === 'DELETE' && key && typeof uploadId === 'string') return abort(ctx, bucket, key, uploadId);
    }
    return next();
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}
