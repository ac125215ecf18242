import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';

/** What s3rver hands its SigV4 string-to-sign function. */
interface CanonicalRequest {
  headers: IncomingHttpHeaders;
  uri: string;
  querystring: string;
}

/**
 * Makes s3rver canonicalise SigV4 requests as the specification (and AWS, and the SDK) does,
 * in the two places where it does not:
 * - the canonical URI is the path as sent; s3rver rebuilds it from the bucket and key and drops
 *   the trailing slash SDK v3 signs on bucket requests (`/bucket/?list-type=2`);
 * - query values are RFC 3986-encoded; s3rver uses `encodeURIComponent`, which leaves `'`, `*`,
 *   `(`, `)` and `!` bare, so a presigned URL whose Content-Disposition carries
 *   `filename*=UTF-8''…` never matched.
 * s3rver still performs every check (this only corrects its input); requests whose raw path was
 * not recorded keep s3rver's own URI. Returns the Koa middleware that records raw paths; it must
 * run before s3rver's routes.
 */
export function fixS3rverSigV4(): (ctx: { req: { url?: string; headers: IncomingHttpHeaders } }, next: () => Promise<void>) => Promise<void> {
  const rawPaths = new WeakMap<IncomingHttpHeaders, string>();
  const v4 = createRequire(import.meta.url)('@20minutes/s3rver/lib/signature/v4') as {
    getStringToSign(canonicalRequest: CanonicalRequest, request: unknown): string;
  };
  const original = v4.getStringToSign;
  v4.getStringToSign = (canonicalRequest, request) =>
    original(
      {
        ...canonicalRequest,
        uri: rawPaths.get(canonicalRequest.headers) ?? canonicalRequest.uri,
        querystring: canonicalRequest.querystring.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      },
      request,
    );
  return async (ctx, next) => {
    rawPaths.set(ctx.req.headers, (ctx.req.url ?? '/').split('?')[0]!);
    await next();
  };
}
