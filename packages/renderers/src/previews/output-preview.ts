import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { z } from 'zod';
import { MAX_RASTER_PIXELS, MAX_RASTER_SIDE, type AssetMetadata } from '@kiln/shared';
import { RenderError, defineRenderer, type RenderContext, type RenderResult } from '../contract.js';
import { readAssetBytes } from '../read-asset-bytes.js';
import { FFMPEG_COMMON_ARGS } from '../media/ffmpeg-progress.js';
import { probeMedia, type MediaInfo } from '../media/probe-media.js';
import { runProcess } from '../media/run-process.js';
import { saveStreamToFile, streamFileToOutput } from '../media/stream-file-to-output.js';
import { writePreview } from '../preview-image.js';
import { renderWaveformPreview } from '../speech/waveform-preview.js';
import { OUTPUT_PREVIEW_KIND, type OutputPreviewInput } from './output-preview-kind.js';

/** An image made elsewhere is read whole (sharp wants it whole); past this it is refused. */
const MAX_PREVIEW_IMAGE_BYTES = 100 * 1024 * 1024;

/**
 * The internal kind that gives an in-worker kind's outputs what a local kind's have: it reads each
 * stored primary back (through ctx.readAsset, as the job runner hands them over), checks that it
 * decodes as what its content type says, measures it, and writes its preview — a 320 px WebP for
 * an image, a waveform PNG for audio, a WebP poster frame for video. It runs in a render process,
 * so bytes from a remote API are decoded behind the same memory ceiling and crash isolation as
 * any user content. Never a public kind: only the worker's render processes load it.
 */
export const outputPreviewRenderer = defineRenderer<OutputPreviewInput>({
  kind: OUTPUT_PREVIEW_KIND,
  description: 'Internal: measures and previews outputs written by a kind that runs in the worker.',
  inputSchema: z.object({
    outputs: z.array(z.object({ ref: z.string(), contentType: z.string(), filename: z.string() })).max(64),
  }),
  example: { outputs: [] },
  async render(input, ctx): Promise<RenderResult> {
    const primary: AssetMetadata = {};
    const preview: AssetMetadata = {};
    for (const [i, output] of input.outputs.entries()) {
      ctx.progress(i / input.outputs.length, 'preview');
      const base = output.filename.replace(/\.[A-Za-z0-9]{1,8}$/, '');
      const family = output.contentType.split('/')[0];
      try {
        const measured =
          family === 'image' ? await previewImage(ctx, output.ref, base)
          : family === 'audio' ? await previewAudio(ctx, output.ref, base, i)
          : family === 'video' ? await previewVideo(ctx, output.ref, base, i)
          : null;
        if (measured) {
          Object.assign(primary, measured.primary);
          Object.assign(preview, measured.preview);
        }
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const why = err instanceof Error ? err.message : String(err);
        throw new RenderError('render_failed', `The output ${output.filename} is not a readable ${output.contentType} file: ${why}`);
      }
    }
    ctx.progress(1, 'preview');
    return { metadata: { primary, preview } };
  },
});

type Measured = { primary: AssetMetadata; preview: AssetMetadata };

async function previewImage(ctx: RenderContext, ref: string, base: string): Promise<Measured> {
  const { bytes } = await readAssetBytes(ctx, ref, { maxBytes: MAX_PREVIEW_IMAGE_BYTES, purpose: 'a preview' });
  const meta: Metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (Math.max(width, height) > MAX_RASTER_SIDE || width * height > MAX_RASTER_PIXELS) {
    throw new Error(`${width}×${height} px is over the raster limits (${MAX_RASTER_SIDE} px a side, ${MAX_RASTER_PIXELS / 1e6} megapixels)`);
  }
  // Decoding it whole (into a 1×1 thumbnail) finds truncated files the header alone lets through.
  await sharp(bytes, { limitInputPixels: MAX_RASTER_PIXELS, failOn: 'error' }).resize(1, 1).raw().toBuffer();
  const shown = await writePreview(ctx, bytes, { format: 'webp', filename: `${base}-preview.webp` });
  return { primary: { width, height, format: meta.format }, preview: shown };
}

async function saveToScratch(ctx: RenderContext, ref: string, file: string): Promise<MediaInfo> {
  const asset = await ctx.readAsset(ref);
  await saveStreamToFile(asset.stream, file, ctx.signal);
  return probeMedia(file, { signal: ctx.signal, log: (line) => ctx.log(line) });
}

async function previewAudio(ctx: RenderContext, ref: string, base: string, i: number): Promise<Measured> {
  const file = path.join(ctx.tmpDir, `output-${i}.audio`);
  const info = await saveToScratch(ctx, ref, file);
  const audio = info.streams.find((s) => s.codecType === 'audio');
  if (!audio) throw new Error('it has no audio stream');
  const png = path.join(ctx.tmpDir, `output-${i}-waveform.png`);
  const shown = await renderWaveformPreview(file, png, { signal: ctx.signal, log: (line) => ctx.log(line) });
  await streamFileToOutput(ctx, png, { role: 'preview', contentType: 'image/png', filename: `${base}-waveform.png` });
  return {
    primary: { format: info.formatName, durationMs: info.durationMs, sampleRate: audio.sampleRate, channels: audio.channels, codec: audio.codecName },
    preview: { ...shown, format: 'png', durationMs: info.durationMs },
  };
}

async function previewVideo(ctx: RenderContext, ref: string, base: string, i: number): Promise<Measured> {
  const file = path.join(ctx.tmpDir, `output-${i}.video`);
  const info = await saveToScratch(ctx, ref, file);
  const video = info.streams.find((s) => s.codecType === 'video');
  if (!video) throw new Error('it has no video stream');
  const audio = info.streams.find((s) => s.codecType === 'audio');
  // The poster is the middle frame: the first is often black or a fade-in.
  const atMs = Math.round((info.durationMs ?? 0) / 2);
  const png = path.join(ctx.tmpDir, `output-${i}-poster.png`);
  await runProcess(
    'ffmpeg',
    [...FFMPEG_COMMON_ARGS, '-ss', (atMs / 1000).toFixed(3), '-i', file, '-frames:v', '1', '-f', 'image2', '-c:v', 'png', png],
    { signal: ctx.signal, log: (line) => ctx.log(line) },
  );
  const shown = await writePreview(ctx, await readFile(png), { format: 'webp', filename: `${base}-poster.webp` });
  return {
    primary: {
      format: 'mp4',
      durationMs: info.durationMs,
      width: video.width,
      height: video.height,
      fps: video.fps,
      videoCodec: video.codecName,
      ...(audio ? { audioCodec: audio.codecName } : {}),
    },
    preview: { ...shown, atMs },
  };
}
