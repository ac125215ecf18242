import { imageMeta } from './image-meta.js';
import type { Font } from 'satori';
import type { ImageCardInput, ImageInput, ImageSvgInput } from '@kiln/shared';
import { defineRenderer, RenderError, throwIfAborted, type RenderContext, type Renderer, type RenderResult } from '../contract.js';
import { DEFAULT_FONT_FAMILY, FONT_FILES } from '../fonts.js';
import { loadFontMetrics, type FontMetrics } from '../font-metrics.js';
import { writePreview } from '../preview-image.js';
import { withAbortReason } from '../abort-reason.js';
import { analyseSvg } from './svg-analysis.js';
import { rasterizeSvg } from './rasterize-svg.js';
import { CONTENT_TYPES, encodeImageTo } from './encode-image.js';
import { createCardFontSource } from './card-fonts.js';
import { loadCardImage, type CardImage } from './card-image.js';
import { assertCardTextCanFit, cardGeometry, renderCardSvg } from './card-layout.js';

interface Raster {
  png: Buffer;
  width: number;
  height: number;
}


/**
 * `image`: a raster image, either drawn from caller-supplied SVG (`svg` mode) or laid out by Kiln as
 * a title card (`card` mode). Every job also stores a WebP preview.
 */
export function createImageRenderer(): Renderer<ImageInput> {
  const cardFonts = createCardFontSource();
  let coverage: Promise<{ regular: FontMetrics; bold: FontMetrics }> | undefined;
  const fontCoverage = () =>
    (coverage ??= Promise.all([loadFontMetrics(FONT_FILES.sans), loadFontMetrics(FONT_FILES.sansBold)]).then(
      ([regular, bold]) => ({ regular, bold }),
    ));
  return defineRenderer<ImageInput>({
    ...imageMeta,
    assetRefs(input) {
      if (input.mode !== 'card') return [];
      return [input.logoAssetId, input.backgroundAssetId].filter((id): id is string => Boolean(id));
    },
    preflight(input) {
      // svg mode stays synchronous, as it always was: parsing and costing is bounded work.
      if (input.mode !== 'card') {
        analyseSvg(input.svg, { path: ['input', 'svg'], width: input.width });
        return;
      }
      assertCardTextCanFit(input);
      return fontCoverage().then(({ regular, bold }) => {
        assertFontCovers(bold, input.title, 'title');
        if (input.subtitle) assertFontCovers(regular, input.subtitle, 'subtitle');
        if (input.body) assertFontCovers(regular, input.body, 'body');
      });
    },
    render(input, ctx) {
      return withAbortReason(ctx.signal, () => renderImage(input, ctx, cardFonts));
    },
  });
}

/**
 * The image renderer the registry ships. A module-level instance is harmless here: all it holds is
 * lazily read, immutable font data (see createCardFontSource), never per-job state.
 */
export const imageRenderer = createImageRenderer();

async function renderImage(input: ImageInput, ctx: RenderContext, cardFonts: () => Promise<Font[]>): Promise<RenderResult> {
  const raster = input.mode === 'card' ? await drawCard(input, ctx, await cardFonts()) : await drawSvg(input, ctx);
  throwIfAborted(ctx.signal);

  ctx.progress(0.7, 'encode');
  const out = ctx.output({
    role: 'primary',
    contentType: CONTENT_TYPES[input.format],
    filename: `image.${input.format === 'jpeg' ? 'jpg' : input.format}`,
  });
  await encodeImageTo(raster.png, input.format, out, ctx.signal);

  ctx.progress(0.9, 'preview');
  const preview = await writePreview(ctx, raster.png, { format: 'webp', filename: 'preview.webp' });
  ctx.progress(1, 'done');
  return { metadata: { primary: { width: raster.width, height: raster.height, format: input.format }, preview } };
}

/** Text the shipped font cannot draw is refused before queueing (satori would drop it silently). */
function assertFontCovers(font: FontMetrics, text: string, field: string): void {
  const missing = new Set<string>();
  for (const ch of text) {
    if (/[\p{Cc}\p{Cf}\p{Zs}]/u.test(ch)) continue; // controls, joiners and spaces draw nothing anyway
    if (!font.covers(ch.codePointAt(0)!)) missing.add(ch);
  }
  if (missing.size === 0) return;
  const list = [...missing].slice(0, 10).join(' ');
  throw new RenderError('validation_failed', `The card text has characters the shipped font (${DEFAULT_FONT_FAMILY}) cannot draw.`, {
    details: [{ path: ['input', field], message: `not drawable: ${list}; remove them, or draw the card as SVG in svg mode` }],
  });
}

async function drawSvg(input: ImageSvgInput, ctx: RenderContext): Promise<Raster> {
  // Checked again here: SVG reaches the renderer from paths that skip preflight (a video's SVG
  // assets are read only at render time), and resvg must never see an SVG over the caps.
  const { raster: expected } = analyseSvg(input.svg, { path: ['input', 'svg'], width: input.width });
  ctx.progress(0.1, 'rasterize');
  const raster = await rasterizeSvg(input.svg, { width: input.width, signal: ctx.signal });
  if (raster.width !== expected.width || raster.height !== expected.height) {
    // The caps rest on this prediction; a difference means the analysis and resvg disagree.
    ctx.log(`svg analysis predicted ${expected.width}×${expected.height}, resvg drew ${raster.width}×${raster.height}`);
  }
  return raster;
}

async function drawCard(input: ImageCardInput, ctx: RenderContext, fonts: Font[]): Promise<Raster> {
  const geo = cardGeometry(input, Boolean(input.logoAssetId));
  const images: { logo?: CardImage; background?: CardImage } = {};
  if (input.backgroundAssetId || input.logoAssetId) ctx.progress(0.05, 'assets');
  if (input.backgroundAssetId) {
    images.background = await loadCardImage(ctx, input.backgroundAssetId, {
      width: geo.width,
      height: geo.height,
      fit: 'cover',
      path: ['input', 'backgroundAssetId'],
    });
  }
  if (input.logoAssetId) {
    images.logo = await loadCardImage(ctx, input.logoAssetId, { ...geo.logoBox, fit: 'inside', path: ['input', 'logoAssetId'] });
  }
  ctx.progress(0.2, 'layout');
  const { svg, textScale } = await renderCardSvg(input, images, { fonts, signal: ctx.signal });
  if (textScale < 1) {
    // The caller asked for text at its full size: say so on the job, not only in the log.
    const note = `card text shrunk to ${Math.round(textScale * 100)}% to fit`;
    ctx.log(note);
    ctx.warn(note);
  }
  ctx.progress(0.45, 'rasterize');
  return rasterizeSvg(svg, { signal: ctx.signal });
}
