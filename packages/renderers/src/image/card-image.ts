import sharp from 'sharp';
import { RenderError, type RenderContext } from '../contract.js';
import { readAssetBytes } from '../read-asset-bytes.js';
import { analyseSvg } from './svg-analysis.js';
import { rasterizeSvg } from './rasterize-svg.js';

export interface CardImage {
  dataUri: string;
  width: number;
  height: number;
}

const MAX_CARD_IMAGE_BYTES = 25 * 1024 * 1024;
/** Formats sharp decodes itself; SVG is handled separately (see below). */
const RASTER_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'avif', 'heif', 'tiff']);

/**
 * Reads an image asset for a card and returns it as a PNG data: URI already sized for its slot,
 * so satori embeds a small image instead of the original upload.
 * - `cover`: cropped to exactly `width`×`height` (backgrounds);
 * - `inside`: scaled to fit within the box, aspect kept (logos).
 * SVG assets go through the same external-reference check as svg mode and are drawn by resvg:
 * sharp would hand them to librsvg, which resolves hrefs against the disk.
 */
export async function loadCardImage(
  ctx: RenderContext,
  assetId: string,
  box: { width: number; height: number; fit: 'cover' | 'inside'; path: string[] },
): Promise<CardImage> {
  const { asset, bytes } = await readAssetBytes(ctx, assetId, { maxBytes: MAX_CARD_IMAGE_BYTES, purpose: 'a card image' });
  if (!asset.contentType.startsWith('image/')) {
    throw new RenderError('render_failed', `Asset ${assetId} is ${asset.contentType}, not an image.`);
  }
  let source = bytes;
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch {
    format = undefined;
  }
  if (format === 'svg' || asset.contentType === 'image/svg+xml') {
    const svg = bytes.toString('utf8');
    // Wide enough that neither fit has to upscale whatever the SVG's aspect ratio is.
    const width = Math.min(8192, Math.max(box.width, box.height) * (box.fit === 'cover' ? 2 : 1));
    // The same caps as svg mode: a tall viewBox at this width could otherwise ask for gigapixels.
    analyseSvg(svg, { path: box.path, width });
    source = (await rasterizeSvg(svg, { width, signal: ctx.signal })).png;
  } else if (!format || !RASTER_FORMATS.has(format)) {
    throw new RenderError('render_failed', `Asset ${assetId} is not an image Kiln can read (${format ?? 'unknown format'}).`);
  }
  try {
    const { data, info } = await sharp(source, { failOn: 'error' })
      .rotate() // honour EXIF orientation from phone photos
      .resize(box.width, box.height, { fit: box.fit, withoutEnlargement: box.fit === 'inside' })
      .png({ compressionLevel: 1 })
      .toBuffer({ resolveWithObject: true });
    return { dataUri: `data:image/png;base64,${data.toString('base64')}`, width: info.width, height: info.height };
  } catch (err) {
    throw new RenderError('render_failed', `Asset ${assetId} could not be decoded: ${(err as Error).message}`);
  }
}
