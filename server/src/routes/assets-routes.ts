import type { FastifyInstance } from 'fastify';
import { listAssetsQuerySchema } from '@kiln/shared';
import { KilnError, issuesToDetails, validationFailed } from '../errors.js';
import { deleteAssetRow, findAsset, listAssets, toAssetView, type AssetRow } from '../services/assets/asset-store.js';
import { isUuid } from '../services/companies/company-service.js';
import type { ByteRange } from '../services/storage/storage-provider.js';
import type { AppDeps } from '../app-deps.js';
import { companyFromRequest } from './company-scope.js';
import { assetLineage, type LineageRow } from '../services/assets/asset-lineage.js';
import { executesInBrowser, presignedDownload } from './asset-redirect.js';

/**
 * One `bytes=` range (first-last, first-, or -suffix). Multiple ranges are answered with the
 * whole body, which RFC 9110 allows. `null`: no usable Range header; `'unsatisfiable'`: 416.
 */
/** What an asset a browser would execute (HTML, SVG, XML) may do when opened: nothing active. */
export const ACTIVE_CONTENT_CSP = "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'";

export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

function contentDisposition(filename: string, download: boolean): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${download ? 'attachment' : 'inline'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function assetsRoutes(deps: AppDeps) {
  async function requireAsset(companyId: string, assetId: string): Promise<AssetRow> {
    const asset = isUuid(assetId) ? await findAsset(deps.database.pool, companyId, assetId) : null;
    if (!asset) throw KilnError.of('asset_not_found');
    return asset;
  }

  return async (app: FastifyInstance) => {
    app.get('/api/companies/:companyId/assets', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const q = listAssetsQuerySchema.safeParse(request.query);
      if (!q.success) throw validationFailed(issuesToDetails(q.error.issues, [], request.query));
      if (q.data.cursor && !isUuid(q.data.cursor)) throw validationFailed([{ path: ['cursor'], message: 'Invalid cursor.' }]);
      const rows = await listAssets(deps.database.pool, companyId, { ...q.data, afterId: q.data.cursor, limit: q.data.limit + 1 });
      const page = rows.slice(0, q.data.limit);
      return {
        items: page.map((a) => toAssetView(a, deps.config.publicUrl)),
        nextCursor: rows.length > q.data.limit ? page[page.length - 1]!.id : null,
      };
    });

    app.get('/api/companies/:companyId/assets/:assetId', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const { assetId } = request.params as { assetId: string };
      return toAssetView(await requireAsset(companyId, assetId), deps.config.publicUrl);
    });

    app.get('/api/companies/:companyId/assets/:assetId/lineage', async (request) => {
      const companyId = await companyFromRequest(deps, request);
      const { assetId } = request.params as { assetId: string };
      const asset = await requireAsset(companyId, assetId);
      const { ancestors, descendants } = await assetLineage(deps.database.pool, companyId, asset.id);
      const node = (n: LineageRow) => ({ depth: n.depth, asset: toAssetView(n.asset, deps.config.publicUrl) });
      return { asset: toAssetView(asset, deps.config.publicUrl), ancestors: ancestors.map(node), descendants: descendants.map(node) };
    });

    const sendContent = (head: boolean) => async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      const companyId = await companyFromRequest(deps, request);
      const { assetId } = request.params as { assetId: string };
      const asset = await requireAsset(companyId, assetId);
      const etag = `"${asset.sha256}"`;
      const download = (request.query as { download?: string }).download === '1';
      const disposition = contentDisposition(asset.originalFilename, download);
      // Checked before redirecting, so a cached copy and a bad Range are still answered here.
      const redirectable = !head && request.headers['if-none-match'] !== etag && parseRange(request.headers.range, asset.byteSize) !== 'unsatisfiable';
      const location = redirectable ? await presignedDownload(deps, companyId, asset, disposition, request.log) : null;
      if (location) return reply.status(302).header('location', location).header('cache-control', 'private, no-store').send();
      reply
        .header('etag', etag)
        .header('accept-ranges', 'bytes')
        .header('content-type', asset.contentType)
        .header('content-disposition', disposition)
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'same-origin')
        .header('cache-control', 'private, max-age=31536000, immutable');
      // HTML, SVG and XML run scripts when a browser opens them: on Kiln's origin they would act
      // as the dashboard's user. The sandbox CSP gives them an opaque origin, no scripts, and
      // nothing loaded from anywhere but inline images and this server.
      if (executesInBrowser(asset.contentType)) reply.header('content-security-policy', ACTIVE_CONTENT_CSP);
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      const ifRange = request.headers['if-range'];
      const range = ifRange && ifRange !== etag ? null : parseRange(request.headers.range, asset.byteSize);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${asset.byteSize}`);
        throw KilnError.of('range_not_satisfiable');
      }
      const length = range ? range.end - range.start + 1 : asset.byteSize;
      reply.header('content-length', String(length));
      if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.byteSize}`);
      if (head) return reply.send();
      const body = await deps.storage.read(companyId, asset.objectKey, range ?? undefined).catch((err) => {
        request.log.error({ err, assetId }, 'asset row without readable file');
        throw KilnError.of('internal_error', 'The asset file could not be read.');
      });
      return reply.send(body);
    };

    app.get('/api/companies/:companyId/assets/:assetId/content', { exposeHeadRoute: false }, sendContent(false));
    app.head('/api/companies/:companyId/assets/:assetId/content', sendContent(true));

    app.delete('/api/companies/:companyId/assets/:assetId', async (request, reply) => {
      const companyId = await companyFromRequest(deps, request);
      const { assetId } = request.params as { assetId: string };
      if (!isUuid(assetId)) throw KilnError.of('asset_not_found');
      // Row first: a failure after it leaves an orphan file for the sweeper, never a row without a file.
      const row = await deleteAssetRow(deps.database.pool, companyId, assetId);
      if (!row) throw KilnError.of('asset_not_found');
      await deps.storage.remove(companyId, row.objectKey).catch((err) => request.log.warn({ err }, 'asset file delete failed; sweeper will retry'));
      return reply.status(204).send();
    });
  };
}
