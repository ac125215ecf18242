import type { UploadOptions, UploadSource } from './kiln-client.js';

/** Types by file extension, for uploads whose type was not given. */
const TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', svg: 'image/svg+xml',
  wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', opus: 'audio/ogg', m4a: 'audio/mp4', aac: 'audio/aac', flac: 'audio/flac',
  mp4: 'video/mp4', webm: 'video/webm', pdf: 'application/pdf',
  csv: 'text/csv', tsv: 'text/tab-separated-values', json: 'application/json', md: 'text/markdown', markdown: 'text/markdown', txt: 'text/plain',
};

export function contentTypeOf(filename: string | undefined): string | undefined {
  const ext = filename?.split('.').pop()?.toLowerCase();
  return ext ? TYPES[ext] : undefined;
}

/**
 * The request body of an upload, with its name and type. A file path (Node only) becomes a web
 * stream of the file, so a large file is never read into memory.
 */
export async function uploadBody(source: UploadSource, o: UploadOptions): Promise<{ body: BodyInit; filename?: string; contentType: string }> {
  if (typeof source === 'string') {
    const [{ createReadStream }, { Readable }, path] = await Promise.all([import('node:fs'), import('node:stream'), import('node:path')]);
    const filename = o.filename ?? path.basename(source);
    const body = Readable.toWeb(createReadStream(source)) as unknown as ReadableStream<Uint8Array>;
    return { body, filename, contentType: o.contentType ?? contentTypeOf(filename) ?? 'application/octet-stream' };
  }
  const blobType = typeof Blob !== 'undefined' && source instanceof Blob ? source.type : '';
  const filename = o.filename ?? (typeof File !== 'undefined' && source instanceof File ? source.name : undefined);
  return {
    body: source as BodyInit,
    filename,
    contentType: o.contentType ?? (blobType || contentTypeOf(filename) || 'application/octet-stream'),
  };
}
