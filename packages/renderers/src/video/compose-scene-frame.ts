import sharp, { type OverlayOptions } from 'sharp';
import { RenderError } from '../contract.js';
import { renderCaptionOverlay } from './render-caption.js';

/**
 * Fits a scene's picture into the video frame and burns in its caption, giving ffmpeg one still
 * of exactly the output size per scene. Doing the scaling here keeps the ffmpeg graph to looping,
 * transitions and encoding, and means each picture is decoded and scaled once, not once per frame.
 */
export async function composeSceneFrame(
  visualPath: string,
  outPath: string,
  options: {
    width: number;
    height: number;
    fit: 'contain' | 'cover';
    background: string;
    caption?: string;
    font: Buffer;
    signal: AbortSignal;
  },
): Promise<void> {
  const { width, height, background } = options;
  const overlays: OverlayOptions[] = [];
  if (options.caption) {
    overlays.push({ input: await renderCaptionOverlay(options.caption, { width, height, font: options.font, signal: options.signal }) });
  }
  // One sharp pipeline: flatten (transparent pictures sit on the video background), fit with
  // background-coloured bars, then the caption on top — sharp orders these itself, composite last.
  await sharp(visualPath, { failOn: 'error' })
    .rotate() // honour EXIF orientation of photos
    .flatten({ background })
    .resize(width, height, { fit: options.fit, background, position: 'centre' })
    .composite(overlays)
    // Fast PNG: the file lives for one job in scratch space and is read once by ffmpeg.
    .png({ compressionLevel: 1 })
    .toFile(outPath)
    .catch((err: Error) => {
      throw new RenderError('validation_failed', `A scene's picture could not be used: ${err.message}`);
    });
}
