import sharp from 'sharp';
import type { AssetMetadata } from '@kiln/shared';

/** An image's intrinsic size in CSS pixels (Chromium shows one image pixel per CSS pixel). */
export interface ImageSize {
  assetId: string;
  width: number;
  height: number;
}

/** The HTML page's text column on screen: `max-width: 46rem` at a 10.5 pt (14 px) root size. */
const HTML_COLUMN_PX = 46 * 14;
const CSS_PX_PER_MM = 96 / 25.4;

/**
 * The width of the text column in CSS pixels: the paper less its side margins for a PDF, the
 * page's maximum width for HTML. Images wider than this are scaled down by `max-width: 100%`.
 */
export function textColumnWidthPx(layout: { format: 'pdf' | 'html'; paperWidthMm: number; marginLeftMm: number; marginRightMm: number }): number {
  if (layout.format === 'html') return HTML_COLUMN_PX;
  return Math.floor((layout.paperWidthMm - layout.marginLeftMm - layout.marginRightMm) * CSS_PX_PER_MM);
}

/**
 * The image's size from the asset's recorded metadata, else from its header (sharp reads only
 * that); `undefined` when neither says (the image is then shown without a size check).
 */
export async function imageSize(assetId: string, metadata: AssetMetadata, bytes: Buffer): Promise<ImageSize | undefined> {
  if (typeof metadata.width === 'number' && typeof metadata.height === 'number') {
    return { assetId, width: metadata.width, height: metadata.height };
  }
  try {
    const { width, height } = await sharp(bytes).metadata();
    return width && height ? { assetId, width, height } : undefined;
  } catch {
    return undefined;
  }
}

/** One warning naming the images wider than the column, or `undefined` when all fit. */
export function scaledImagesWarning(sizes: ImageSize[], columnPx: number): string | undefined {
  const wide = sizes.filter((s) => s.width > columnPx);
  if (wide.length === 0) return undefined;
  const named = wide
    .slice(0, 5)
    .map((s) => `${s.assetId} (${s.width}×${s.height} px)`)
    .join(', ');
  const more = wide.length > 5 ? ` and ${wide.length - 5} more` : '';
  return (
    `${wide.length} image${wide.length === 1 ? ' is' : 's are'} wider than the ${columnPx} px text column and scaled down to fit: ` +
    `${named}${more}. Use landscape, smaller margins or narrower images to show them at full size.`
  );
}
