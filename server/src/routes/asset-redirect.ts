import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import type { AssetRow } from '../services/assets/asset-store.js';

/**
 * Types a browser opens as an active document, running their scripts: HTML, SVG and XML
 * (XML can pull in XSLT and XHTML). A presigned URL cannot carry `X-Content-Type-Options` or a
 * CSP, and would run those scripts on the bucket's origin, so these are always streamed through
 * Kiln, with its headers, on its origin — which also keeps the dashboard's inline HTML and SVG
 * previews working, which an `attachment` redirect would turn into downloads.
 */
export function executesInBrowser(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type === 'text/html' ||
    type === 'application/xhtml+xml' ||
    type === 'text/xml' ||
    type === 'application/xml' ||
    type.endsWith('+xml')
  );
}

/**
 * Where to redirect a GET of an asset's bytes: a presigned URL answering with the asset's
 * Content-Type and the given Content-Disposition, when `KILN_S3_PRESIGN_SECONDS` is set, the
 * provider can presign and the type is passive. Null → stream through Kiln (also when signing
 * fails: the bytes are still reachable that way, and the failure is logged).
 */
export async function presignedDownload(
  deps: Pick<AppDeps, 'config' | 'storage'>,
  companyId: string,
  asset: Pick<AssetRow, 'objectKey' | 'contentType'>,
  contentDisposition: string,
  log: FastifyBaseLogger,
): Promise<string | null> {
  const seconds = deps.config.s3?.presignSeconds;
  if (!seconds || executesInBrowser(asset.contentType)) return null;
  try {
    return await deps.storage.presignRead(companyId, asset.objectKey, {
      expiresInSeconds: seconds,
      contentType: asset.contentType,
      contentDisposition,
    });
  } catch (err) {
    log.warn({ err }, 'presigning an asset download failed; streaming it instead');
    return null;
  }
}
