import sharp, { type Metadata } from 'sharp';
import { MAX_CHART_ROWS, MAX_RASTER_PIXELS, MAX_RASTER_SIDE, UPLOAD_TYPES, type AssetMetadata } from '@kiln/shared';
import { capsExceeded, RenderError, type RenderContext } from '../contract.js';
import { readAssetBytes } from '../read-asset-bytes.js';
import { analyseSvg } from '../image/svg-analysis.js';
import { createRowCounter } from '../chart/chart-data-rows.js';

import type { InspectUploadInput } from './inspect-upload-kind.js';

/** JSON files may nest this deep (chart data and configs stay far below it). */
const MAX_JSON_DEPTH = 64;

/**
 * Checks an uploaded file by reading it as what it claims to be, in a render process (never on the
 * API's thread): text must be valid UTF-8 and parse (JSON, CSV/TSV with at most MAX_CHART_ROWS
 * rows, SVG as inline SVG input is: well-formed, no external references, within the SVG caps), and
 * images must decode, within the raster caps that generated images have. Returns what it learned,
 * as asset metadata.
 */
export async function inspectUpload(input: InspectUploadInput, ctx: RenderContext): Promise<AssetMetadata> {
  const rule = UPLOAD_TYPES[input.contentType];
  if (!rule) throw new RenderError('validation_failed', `${input.contentType} is not an accepted upload type.`);
  const fail = (message: string) =>
    new RenderError('validation_failed', `The file is not valid ${input.contentType}: ${message}`, { details: [{ path: input.path, message }] });

  if (rule.family === 'image' && rule.check === 'binary') {
    const { bytes } = await readAssetBytes(ctx, input.assetId, { maxBytes: input.maxBytes, purpose: 'an upload' });
    return inspectRaster(bytes, input, fail);
  }
  if (rule.check !== 'text') return {};

  let counter: ReturnType<typeof createRowCounter> | undefined;
  if (input.contentType === 'text/csv' || input.contentType === 'text/tab-separated-values') {
    counter = createRowCounter(input.contentType === 'text/csv' ? 'csv' : 'tsv', MAX_CHART_ROWS);
  }
  const { bytes } = await readAssetBytes(ctx, input.assetId, {
    maxBytes: rule.maxBytes ?? input.maxBytes,
    purpose: `a ${input.contentType} upload`,
    onChunk(chunk) {
      const rows = counter?.push(chunk) ?? 0;
      if (rows > MAX_CHART_ROWS) {
        throw capsExceeded([{ path: input.path, message: `more than ${MAX_CHART_ROWS} rows`, limit: MAX_CHART_ROWS, actual: rows }]);
      }
    },
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail('it is not UTF-8 text');
  }
  if (text.includes('\u0000')) throw fail('it contains NUL characters');
  switch (input.contentType) {
    case 'application/json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw fail((err as Error).message);
      }
      if (depthOf(value) > MAX_JSON_DEPTH) throw fail(`it nests deeper than ${MAX_JSON_DEPTH} levels`);
      return { format: 'json', ...(Array.isArray(value) ? { rows: value.length } : {}) };
    }
    case 'text/csv':
    case 'text/tab-separated-values': {
      // Counted while the bytes streamed in, as vega's parser will read them (chart-data-rows.ts).
      return { format: input.contentType === 'text/csv' ? 'csv' : 'tsv', rows: counter!.rows() };
    }
    case 'image/svg+xml': {
      // As inline SVG input is checked: well-formed, no external references, and within the
      // raster and drawing caps at its own size.
      const { raster } = analyseSvg(text, { path: input.path });
      return { format: 'svg', width: raster.width, height: raster.height };
    }
    default:
      return { format: input.contentType === 'text/markdown' ? 'markdown' : 'text' };
  }
}

async function inspectRaster(bytes: Buffer, input: InspectUploadInput, fail: (m: string) => RenderError): Promise<AssetMetadata> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw fail((err as Error).message);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const over = [
    ...(Math.max(width, height) > MAX_RASTER_SIDE
      ? [{ path: input.path, message: `${width}×${height} px: a side is longer than ${MAX_RASTER_SIDE} px`, limit: MAX_RASTER_SIDE, actual: Math.max(width, height) }]
      : []),
    ...(width * height > MAX_RASTER_PIXELS
      ? [{ path: input.path, message: `${width}×${height} px is more than ${MAX_RASTER_PIXELS / 1e6} megapixels`, limit: MAX_RASTER_PIXELS, actual: width * height }]
      : []),
  ];
  if (over.length > 0) throw capsExceeded(over);
  // Decoding it whole (into a 1×1 thumbnail) finds truncated and corrupt files that the header
  // alone would let through, before any job tries to use them.
  try {
    await sharp(bytes, { limitInputPixels: MAX_RASTER_PIXELS, failOn: 'error' }).resize(1, 1).raw().toBuffer();
  } catch (err) {
    throw fail(`it does not decode (${(err as Error).message})`);
  }
  return { width, height, format: meta.format };
}

/** Nesting depth of a parsed JSON value, walked iteratively. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}
