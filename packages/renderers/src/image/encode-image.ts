import sharp, { type Sharp } from 'sharp';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';

export type RasterFormat = 'png' | 'webp' | 'jpeg' | 'avif';

export const CONTENT_TYPES: Record<RasterFormat, string> = {
  png: 'image/png',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  avif: 'image/avif',
};

/** Encoder settings chosen for a 2-core host: AVIF at its defaults takes seconds per image. */
export function withFormat(image: Sharp, format: RasterFormat): Sharp {
  switch (format) {
    case 'png':
      return image.png({ compressionLevel: 6 });
    case 'webp':
      return image.webp({ quality: 85, effort: 3 });
    case 'jpeg':
      return image.jpeg({ quality: 88, mozjpeg: false });
    case 'avif':
      return image.avif({ quality: 55, effort: 2 });
  }
}

/** Encodes `source` and streams the bytes into `out` (sharp is itself a Duplex). */
export async function encodeImageTo(
  source: Buffer,
  format: RasterFormat,
  out: Writable,
  signal: AbortSignal,
  resize?: { longSide: number },
): Promise<void> {
  let image = sharp(source);
  if (resize) {
    image = image.resize(resize.longSide, resize.longSide, { fit: 'inside', withoutEnlargement: true });
  }
  await pipeline(withFormat(image, format), out, { signal });
}
