import type { KilnClient } from '@kiln/client';
import type { AssetView } from '@kiln/shared';

/** Images up to this size come back inline in a tool result (base64); larger ones as links only. */
export const MAX_INLINE_IMAGE_BYTES = 2 * 1024 * 1024;
/** resources/read returns assets up to this size; a larger one is described, with its download URL. */
export const MAX_RESOURCE_READ_BYTES = 16 * 1024 * 1024;

/** Image types MCP clients can show a model; SVG and AVIF are links (their raster preview is inlined). */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

export const isInlineImageType = (contentType: string) => INLINE_IMAGE_TYPES.has(baseType(contentType));

/** Returned as text by resources/read; everything else is a base64 blob. */
export function isTextType(contentType: string): boolean {
  const t = baseType(contentType);
  return (
    t.startsWith('text/') ||
    t.endsWith('+json') ||
    t.endsWith('+xml') ||
    ['application/json', 'application/xml', 'application/javascript', 'application/x-ndjson', 'application/yaml'].includes(t)
  );
}

const baseType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

/**
 * `kiln://assets/<id>` names an asset of the connection's company; one of another company (an
 * admin key working across companies) is `kiln://companies/<companyId>/assets/<id>`.
 */
export function assetUri(asset: Pick<AssetView, 'id' | 'companyId'>, connectionCompanyId: string | null): string {
  return asset.companyId === connectionCompanyId ? `kiln://assets/${asset.id}` : `kiln://companies/${asset.companyId}/assets/${asset.id}`;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const ASSET_URI = new RegExp(`^kiln://(?:companies/(${UUID})/)?assets/(${UUID})$`);

/** The company (null: the connection's) and asset a `kiln://` URI names, or null if it names none. */
export function parseAssetUri(uri: string): { companyId: string | null; assetId: string } | null {
  const m = ASSET_URI.exec(uri);
  return m ? { companyId: m[1] ?? null, assetId: m[2]! } : null;
}

/**
 * An asset's bytes in memory, for inlining. The caller checks `byteSize` first; the cap here
 * also holds if the stored file were larger than its record says.
 */
export async function readAssetBytes(client: KilnClient, companyId: string, assetId: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new Error(`asset ${assetId} is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    },
  });
  await client.downloadAsset(companyId, assetId, sink, { signal });
  return Buffer.concat(chunks);
}
