import sharp, { type OutputInfo } from 'sharp';
import { pipeline } from 'node:stream/promises';
import type { RenderContext } from './contract.js';

/** Thumbnails are the same size for every kind, so a dashboard grid can lay them out blind. */
export const PREVIEW_LONG_SIDE = 320;

/**
 * Writes the `preview` asset of a job: `source` (any raster sharp reads) scaled so its long side is
 * exactly {@link PREVIEW_LONG_SIDE} pixels, streamed into the preview output.
 */
export async function writePreview(
  ctx: RenderContext,
  source: Buffer,
  options: { format: 'webp' | 'png'; filename: string },
): Promise<{ width: number; height: number; format: string }> {
  let image = sharp(source).resize(PREVIEW_LONG_SIDE, PREVIEW_LONG_SIDE, { fit: 'inside' });
  image = options.format === 'webp' ? image.webp({ quality: 80, effort: 3 }) : image.png({ compressionLevel: 6 });
  let info: OutputInfo | undefined;
  image.once('info', (i: OutputInfo) => (info = i));
  const out = ctx.output({
    role: 'preview',
    contentType: options.format === 'webp' ? 'image/webp' : 'image/png',
    filename: options.filename,
  });
  await pipeline(image, out, { signal: ctx.signal });
  return { width: info?.width ?? 0, height: info?.height ?? 0, format: options.format };
}
