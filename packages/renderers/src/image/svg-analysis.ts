import {
  MAX_RASTER_PIXELS,
  MAX_RASTER_SIDE,
  MAX_SVG_CSS_MATCHES,
  MAX_SVG_DASHES,
  MAX_SVG_DEPTH,
  MAX_SVG_ELEMENTS,
  MAX_SVG_FILTER_WORK,
  MAX_SVG_GRADIENT_WORK,
  MAX_SVG_IMAGE_PIXELS,
  MAX_SVG_LAYER_PIXELS,
  MAX_SVG_PAINT_PIXELS,
  MAX_SVG_TEXT_CHARS,
  MAX_SVG_USE_LOOKUP_STEPS,
  type CapViolation,
} from '@kiln/shared';
import { capsExceeded, RenderError } from '../contract.js';
import { parseDataUri, rasterSize } from './embedded-image.js';
import { applyStyles, parseSvgDocument, type SvgDocument, type SvgNode } from './svg-document.js';
import { expansionStats, type ExpansionStats } from './svg-expansion.js';
import { IDENTITY, multiply, parseLength, parseViewBox, scale, toUserUnits, viewBoxTransform } from './svg-geometry.js';
import { createMeasure, type Measure } from './svg-measure.js';
import { renderCost, type EmbeddedImage, type RenderCost } from './svg-render-cost.js';

/** What analysing an SVG found: its size, and every quantity a cap bounds (the render costs as counted per copy drawn). */
export interface SvgAnalysis extends Omit<RenderCost, 'largestImage'> {
  /** The size resvg gives the document (width/height, else viewBox, else content), in px. */
  size: { width: number; height: number };
  /** The raster it is drawn onto: `size`, or scaled to the requested width (height keeps the ratio). */
  raster: { width: number; height: number };
  /** Elements once every `<use>` is expanded. */
  elements: number;
  depth: number;
}

export interface AnalyseSvgOptions {
  /** Where the SVG sits in the request, for error details (`['input', 'svg']`). */
  path: (string | number)[];
  /** The output width the renderer will ask resvg for (`fitTo` width); the height follows. */
  width?: number;
}

const f32 = Math.fround;

/**
 * Parses SVG markup and checks it against every published SVG cap before resvg sees it: well-formed
 * XML with an `<svg>` root, no reference outside the document, and bounded raster size, element
 * count, nesting, filter work, layers, pixels painted, gradients, dashes, text, embedded images
 * and parse work. Returns what it measured; throws a `validation_failed` RenderError otherwise
 * (cap violations carry `{ path, message, limit, actual }` details). Costs are computed, never
 * rendered: the work is linear in the markup (plus at most MAX_SVG_ELEMENTS element visits),
 * about 0.1–0.2 s of CPU for 1 MB, whatever the document describes.
 *
 * @example
 * const { raster } = analyseSvg(input.svg, { path: ['input', 'svg'], width: input.width });
 */
export function analyseSvg(svg: string, options: AnalyseSvgOptions): SvgAnalysis {
  const { path } = options;
  const parsed = parseChecked(svg, path, 'The SVG');
  const images = createImageResolver(path);
  const { size, measure } = measureDocument(parsed.doc, images.sizeOf, path, 'The SVG');

  const fitScale = options.width ? f32(options.width / size.width) : 1;
  const raster = { width: Math.round(f32(size.width * fitScale)), height: Math.round(f32(size.height * fitScale)) };
  if (raster.width < 1 || raster.height < 1) {
    throw new RenderError('validation_failed', 'The SVG would be drawn onto an empty raster.', {
      details: [{ path, message: `the output would be ${raster.width}×${raster.height} pixels` }],
    });
  }
  const sizeViolations: CapViolation[] = [];
  const side = Math.max(raster.width, raster.height);
  if (side > MAX_RASTER_SIDE) {
    sizeViolations.push({ path, message: `the SVG draws a ${raster.width}×${raster.height} px raster; each side may be at most ${MAX_RASTER_SIDE} px`, limit: MAX_RASTER_SIDE, actual: side });
  }
  if (raster.width * raster.height > MAX_RASTER_PIXELS) {
    sizeViolations.push({
      path,
      message: `the SVG draws a ${raster.width}×${raster.height} px raster (${raster.width * raster.height} pixels); at most ${MAX_RASTER_PIXELS} pixels`,
      limit: MAX_RASTER_PIXELS,
      actual: raster.width * raster.height,
    });
  }
  if (sizeViolations.length > 0) throw capsExceeded(sizeViolations);

  const vb = parseViewBox(parsed.doc.root.attrs.viewBox);
  const rootTransform = multiply(
    scale(raster.width / size.width, raster.height / size.height),
    vb ? viewBoxTransform(vb, parsed.doc.root.attrs.preserveAspectRatio, size.width, size.height) : IDENTITY,
  );
  const cost = renderCost(parsed.doc, measure, { canvas: raster, rootTransform, image: images.resolve });
  const analysis: SvgAnalysis = {
    size,
    raster,
    elements: parsed.stats.elements,
    depth: parsed.stats.depth,
    drawnElements: cost.drawnElements,
    filterWork: cost.filterWork,
    layerPixels: cost.layerPixels,
    imagePixels: cost.imagePixels,
    textChars: cost.textChars,
    dashes: cost.dashes,
    gradientWork: cost.gradientWork,
    paintPixels: cost.paintPixels,
    useLookupSteps: parsed.stats.useLookupSteps + cost.useLookupSteps,
    cssMatches: parsed.cssMatches + cost.cssMatches,
  };

  const v: CapViolation[] = [];
  const over = (actual: number, limit: number, message: string) => {
    if (actual > limit) v.push({ path, message, limit, actual: Math.min(actual, Number.MAX_SAFE_INTEGER) });
  };
  over(
    analysis.drawnElements,
    MAX_SVG_ELEMENTS,
    `drawing the SVG takes more than ${MAX_SVG_ELEMENTS} element instances (<use> copies, and marker, pattern, clip-path and mask content each time it is used)`,
  );
  over(analysis.filterWork, MAX_SVG_FILTER_WORK, `the SVG's filters need ${analysis.filterWork} units of work (region pixels × primitive weight); at most ${MAX_SVG_FILTER_WORK}`);
  over(
    analysis.layerPixels,
    MAX_SVG_LAYER_PIXELS,
    `drawing the SVG needs ${analysis.layerPixels} pixels of off-screen layers (opacity, clip paths, masks, filters, pattern tiles); at most ${MAX_SVG_LAYER_PIXELS}`,
  );
  if (cost.largestImage) {
    const { width, height } = cost.largestImage;
    over(width * height, MAX_RASTER_PIXELS, `an embedded image is ${width}×${height} pixels; at most ${MAX_RASTER_PIXELS} pixels each`);
  }
  over(analysis.imagePixels, MAX_SVG_IMAGE_PIXELS, `the embedded images decode to ${analysis.imagePixels} pixels in all (each copy counts); at most ${MAX_SVG_IMAGE_PIXELS}`);
  over(analysis.textChars, MAX_SVG_TEXT_CHARS, `the SVG draws ${analysis.textChars} characters of text (each copy counts); at most ${MAX_SVG_TEXT_CHARS}`);
  over(analysis.dashes, MAX_SVG_DASHES, `the SVG's dashed strokes make ${analysis.dashes} dashes (each copy counts); at most ${MAX_SVG_DASHES}`);
  over(analysis.paintPixels, MAX_SVG_PAINT_PIXELS, `the SVG paints ${analysis.paintPixels} pixels (overdraw included, each copy counts); at most ${MAX_SVG_PAINT_PIXELS}`);
  over(analysis.gradientWork, MAX_SVG_GRADIENT_WORK, `the SVG's gradients need ${analysis.gradientWork} units of work (pixels painted × stops); at most ${MAX_SVG_GRADIENT_WORK}`);
  over(analysis.useLookupSteps, MAX_SVG_USE_LOOKUP_STEPS, `resolving the SVG's <use> references takes ${analysis.useLookupSteps} lookup steps; at most ${MAX_SVG_USE_LOOKUP_STEPS} (fewer <use> elements, or targets earlier in the document)`);
  over(analysis.cssMatches, MAX_SVG_CSS_MATCHES, `the SVG's CSS needs ${analysis.cssMatches} selector checks (selectors × elements); at most ${MAX_SVG_CSS_MATCHES}`);
  if (v.length > 0) throw capsExceeded(v);
  return analysis;
}

interface ParsedSvg {
  doc: SvgDocument;
  stats: ExpansionStats;
  cssMatches: number;
}

/** Parses, refuses external references, and checks the parse-time caps. */
function parseChecked(svg: string, path: (string | number)[], what: string): ParsedSvg {
  const doc = parseSvgDocument(svg, path);
  if (doc.externalReferences.length > 0) {
    throw new RenderError('validation_failed', 'SVG may not reference external files or URLs; inline images as data: URIs.', {
      details: [{ path, message: `external references: ${doc.externalReferences.slice(0, 5).join(', ')}` }],
    });
  }
  const stats = expansionStats(doc, path);
  const cssMatches = doc.selectorCount * stats.elements;
  const v: CapViolation[] = [];
  if (stats.elements > MAX_SVG_ELEMENTS) {
    v.push({ path, message: `${what} expands to ${stats.elements} elements once <use> is resolved; at most ${MAX_SVG_ELEMENTS}`, limit: MAX_SVG_ELEMENTS, actual: Math.min(stats.elements, Number.MAX_SAFE_INTEGER) });
  }
  if (stats.depth > MAX_SVG_DEPTH) {
    v.push({ path, message: `${what}'s elements (with <use> expanded) are nested ${stats.depth} deep; at most ${MAX_SVG_DEPTH}`, limit: MAX_SVG_DEPTH, actual: stats.depth });
  }
  if (stats.useLookupSteps > MAX_SVG_USE_LOOKUP_STEPS) {
    v.push({
      path,
      message: `resolving the <use> references of ${what.toLowerCase()} takes ${stats.useLookupSteps} lookup steps; at most ${MAX_SVG_USE_LOOKUP_STEPS} (fewer <use> elements, or targets earlier in the document)`,
      limit: MAX_SVG_USE_LOOKUP_STEPS,
      actual: Math.min(stats.useLookupSteps, Number.MAX_SAFE_INTEGER),
    });
  }
  if (cssMatches > MAX_SVG_CSS_MATCHES) {
    v.push({ path, message: `the CSS of ${what.toLowerCase()} needs ${cssMatches} selector checks (selectors × elements); at most ${MAX_SVG_CSS_MATCHES}`, limit: MAX_SVG_CSS_MATCHES, actual: Math.min(cssMatches, Number.MAX_SAFE_INTEGER) });
  }
  if (v.length > 0) throw capsExceeded(v);
  applyStyles(doc);
  return { doc, stats, cssMatches };
}

/**
 * The document's size as resvg 0.35 computes it: width/height (px, pt, pc, mm, cm, in, em, ex at
 * 96 dpi); percentages of the viewBox; without a viewBox, percentages of 100 px, and when either
 * side is a percentage resvg then sizes the document to its content's right and bottom edges.
 */
function measureDocument(
  doc: SvgDocument,
  imageSize: (node: SvgNode) => { width: number; height: number } | undefined,
  path: (string | number)[],
  what: string,
): { size: { width: number; height: number }; measure: Measure } {
  const root = doc.root;
  const vb = parseViewBox(root.attrs.viewBox);
  // Font size for em/ex on the root: its own font-size, else resvg's default of 12.
  const rootFont = parseLength(root.props.get('font-size')?.[0]);
  const fontSize = rootFont ? Math.abs(toUserUnits(rootFont, 12, 12)) : 12;
  const hundred = { value: 100, unit: '%' as const };
  const wLen = parseLength(root.attrs.width) ?? hundred;
  const hLen = parseLength(root.attrs.height) ?? hundred;
  const restore = (wLen.unit === '%' || hLen.unit === '%') && !vb;
  let width = f32(wLen.unit === '%' ? (wLen.value / 100) * (vb ? vb.w : 100) : toUserUnits(wLen, 100, fontSize));
  let height = f32(hLen.unit === '%' ? (hLen.value / 100) * (vb ? vb.h : 100) : toUserUnits(hLen, 100, fontSize));
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new RenderError('validation_failed', `${what} has an invalid size.`, {
      details: [{ path, message: `width ${root.attrs.width ?? '(none)'} and height ${root.attrs.height ?? '(none)'} do not give a positive size` }],
    });
  }
  const measure = createMeasure(doc, { viewport: vb ? { w: vb.w, h: vb.h } : { w: width, h: height }, imageSize });
  if (restore) {
    const box = measure.contentBox({ ...root, name: 'g', parent: null });
    if (box && box.x1 > 0 && box.y1 > 0) [width, height] = [f32(box.x1), f32(box.y1)];
  }
  return { size: { width, height }, measure };
}

/**
 * Resolves `<image>` and `feImage` data URIs once per element: raster images to the size their
 * header declares, SVG images to a parsed and checked document (drawn in place by the walk).
 */
function createImageResolver(path: (string | number)[]) {
  const cache = new Map<SvgNode, EmbeddedImage>();
  const resolve = (node: SvgNode): EmbeddedImage => {
    let image = cache.get(node);
    if (image) return image;
    image = { kind: 'none' };
    const uri = node.attrs.href ? parseDataUri(node.attrs.href) : undefined;
    if (uri?.mediaType === 'image/svg+xml') {
      if (uri.bytes[0] === 0x1f && uri.bytes[1] === 0x8b) {
        throw new RenderError('validation_failed', 'Compressed (svgz) SVG images cannot be embedded in SVG.', {
          details: [{ path, message: 'an <image> embeds gzip-compressed SVG; embed it uncompressed' }],
        });
      }
      const nested = parseChecked(uri.bytes.toString('utf8'), path, 'An embedded SVG image');
      // resvg drops every <image> of an SVG image, so nothing inside it is resolved.
      const { size, measure } = measureDocument(nested.doc, () => undefined, path, 'An embedded SVG image');
      image = { kind: 'svg', doc: nested.doc, measure, size, parse: { elements: nested.stats.elements, useLookupSteps: nested.stats.useLookupSteps, cssMatches: nested.cssMatches } };
    } else if (uri && uri.mediaType.startsWith('image/')) {
      const dims = rasterSize(uri.bytes);
      if (dims) image = { kind: 'raster', width: dims.width, height: dims.height };
    }
    cache.set(node, image);
    return image;
  };
  const sizeOf = (node: SvgNode) => {
    const img = resolve(node);
    return img.kind === 'raster' ? { width: img.width, height: img.height } : img.kind === 'svg' ? img.size : undefined;
  };
  return { resolve, sizeOf };
}
