import { MAX_SVG_ELEMENTS } from '@kiln/shared';
import type { SvgDocument, SvgNode } from './svg-document.js';
import { hrefTarget } from './svg-expansion.js';
import { GRAPHICS, SHAPES, type FilterPrimitive, type Measure } from './svg-measure.js';
import {
  IDENTITY,
  multiply,
  parseNumberList,
  parseTransform,
  parseViewBox,
  pixelsOf,
  rectOf,
  scale,
  scaleOf,
  transformRect,
  viewBoxTransform,
  type Matrix,
  type Rect,
} from './svg-geometry.js';

/** What drawing costs, in the units the caps use. */
export interface RenderCost {
  /** Element instances drawn: `<use>` copies, and marker, pattern, clip-path and mask content each time it is used. */
  drawnElements: number;
  filterWork: number;
  layerPixels: number;
  imagePixels: number;
  /** Characters of text drawn, counted per copy. */
  textChars: number;
  /** Dashes of dashed strokes, counted per copy. */
  dashes: number;
  /** Pixels painted with a gradient times its stops. */
  gradientWork: number;
  /** Pixels painted by fills, strokes and images (overdraw included), each copy counted. */
  paintPixels: number;
  /** The largest embedded raster image, by pixels. */
  largestImage: { width: number; height: number } | undefined;
  /** Parsing embedded SVG images, repeated for every copy drawn (see ExpansionStats). */
  useLookupSteps: number;
  cssMatches: number;
}

/** An embedded image as the walk needs it: decoded pixels, or an SVG document drawn in place. */
export type EmbeddedImage =
  | { kind: 'raster'; width: number; height: number }
  | {
      kind: 'svg';
      doc: SvgDocument;
      measure: Measure;
      size: { width: number; height: number };
      /** Its own parsing costs: elements after `<use>` expansion, `<use>` lookups, CSS matches. */
      parse: { elements: number; useLookupSteps: number; cssMatches: number };
    }
  | { kind: 'none' };

export interface RenderCostOptions {
  /** The raster the document is drawn onto. */
  canvas: { width: number; height: number };
  /** Root user space to raster pixels (viewBox mapping and the `width` scaling). */
  rootTransform: Matrix;
  /** The image an `<image>` (or `feImage`) embeds; SVG images come back parsed. */
  image(node: SvgNode): EmbeddedImage;
}

const INHERITED = ['fill', 'stroke', 'stroke-dasharray', 'marker-start', 'marker-mid', 'marker-end'] as const;
/** tiny-skia gives up dashing one path past a million dashes (the stroke is then not drawn). */
const MAX_DASHES_PER_PATH = 1_000_000;
type Inherited = Partial<Record<(typeof INHERITED)[number], string[]>>;

/** Stops the walk once the element count is over its cap: the answer is known, the rest is waste. */
class TooManyElements extends Error {}

interface Ctx {
  /** User space of the element being visited → raster pixels. */
  ctm: Matrix;
  /** How many identical copies this visit stands for (marker instances). */
  times: number;
  /** Pixels of the surface being drawn on (the canvas, a layer, a pattern tile). */
  surface: number;
  /** Inherited fill, stroke and marker values (every candidate). */
  inherited: Inherited;
  /** Resources (patterns, masks, clip paths, markers) being drawn, so a self-reference stops. */
  active: Set<SvgNode>;
}

/*
 * Filter primitive weights: resvg's time per pixel of the filter region, in units where its box
 * blur is 18, measured by rendering each primitive over a 1000×1000 region with resvg 0.35 on the
 * 2-core build machine (one unit was 5–20 ns there, depending on load).
 */
const WEIGHTS: Record<string, number> = {
  feSpecularLighting: 14,
};
/** Most primitives (flood, offset, colour matrix, composite, blend …): allocate, copy, convert once. */
const BASE_WEIGHT = 6;
/** resvg blurs with three box blurs above 2 px of standard deviation, and with a slower IIR filter below. */
const BOX_BLUR_WEIGHT = 18;
const IIR_BLUR_WEIGHT = 45;

/**
 * Walks the document as resvg draws it and adds up the costs the caps bound: element instances,
 * off-screen layer pixels, filter work and decoded image pixels. Layers follow resvg 0.35: a group
 * with opacity, clip-path, mask, filter or blending gets a layer the size of its bounds on the
 * canvas, at most 4× the canvas on each side; filter primitives work over the whole filter region,
 * which resvg does not clip at all.
 */
export function renderCost(doc: SvgDocument, measure: Measure, options: RenderCostOptions): RenderCost {
  const { canvas } = options;
  const maxLayer = 16 * canvas.width * canvas.height;
  const cost: RenderCost = {
    drawnElements: 0,
    filterWork: 0,
    layerPixels: 0,
    imagePixels: 0,
    textChars: 0,
    dashes: 0,
    gradientWork: 0,
    paintPixels: 0,
    largestImage: undefined,
    useLookupSteps: 0,
    cssMatches: 0,
  };

  const count = (ctx: Ctx, n = 1) => {
    cost.drawnElements += n * ctx.times;
    if (cost.drawnElements > MAX_SVG_ELEMENTS) throw new TooManyElements();
  };

  /** Elements and characters of a `<text>` (its tspans, textPaths and their text). */
  const textSize = (node: SvgNode): { elements: number; chars: number } => {
    let [elements, chars] = [0, 0];
    const stack = [node];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (!x.name) continue;
      elements++;
      chars += x.text;
      for (const c of x.children) stack.push(c);
    }
    return { elements, chars };
  };

  const layered = (node: SvgNode): { clip?: SvgNode; mask?: SvgNode; filter: boolean; any: boolean } => {
    const p = node.props;
    const opacity =
      p.get('opacity')?.some((x) => {
        const n = Number.parseFloat(x);
        return Number.isFinite(n) && (x.trim().endsWith('%') ? n / 100 : n) < 1;
      }) ?? false;
    const clip = p.get('clip-path')?.map((x) => measure.reference(x, ['clipPath'])).find(Boolean);
    const mask = p.get('mask')?.map((x) => measure.reference(x, ['mask'])).find(Boolean);
    const filter = p.has('filter') && measure.filters(node) !== null;
    const blend = (p.get('mix-blend-mode')?.some((x) => x.trim() !== 'normal') ?? false) || (p.get('isolation')?.some((x) => x.trim() === 'isolate') ?? false);
    return { clip, mask, filter, any: opacity || Boolean(clip) || Boolean(mask) || filter || blend };
  };

  /** Layer, clip, mask and filter costs of one element instance; returns the surface its content draws on. */
  const group = (node: SvgNode, ctx: Ctx, ctm: Matrix, viewportClip: boolean): number => {
    const l = layered(node);
    if (!l.any && !viewportClip) return ctx.surface;
    const box = measure.outerBox(node);
    if (!box) return ctx.surface;
    const device = transformRect(ctm, box);
    const px = Math.min(pixelsOf(l.filter ? device : { x0: device.x0 - 2, y0: device.y0 - 2, x1: device.x1 + 2, y1: device.y1 + 2 }), maxLayer);
    cost.layerPixels += px * ctx.times;
    if (l.filter) filterCost(node, ctx, ctm);
    if (l.clip) {
      cost.layerPixels += px * ctx.times;
      resource(l.clip, ctx, ctm, px, node, 'clipPathUnits');
    }
    if (l.mask) {
      cost.layerPixels += 2 * px * ctx.times; // the mask's own pixmap and its alpha mask
      resource(l.mask, ctx, ctm, px, node, 'maskContentUnits');
    }
    return px;
  };

  /** Draws a clip path's or mask's content for one use of it. */
  const resource = (res: SvgNode, ctx: Ctx, ctm: Matrix, surface: number, user: SvgNode, unitsAttr: string) => {
    if (ctx.active.has(res)) return;
    let m = ctm;
    if ((res.attrs[unitsAttr] ?? '').trim() === 'objectBoundingBox') {
      const box = measure.contentBox(user);
      if (!box) return;
      m = multiply(ctm, [box.x1 - box.x0, 0, 0, box.y1 - box.y0, box.x0, box.y0]);
    }
    const active = new Set(ctx.active).add(res);
    const inner: Ctx = { ...ctx, ctm: m, surface, active };
    for (const child of res.children) visit(child, inner);
    // A clip path or mask can itself be clipped or masked.
    group(res, inner, ctm, false);
  };

  const filterCost = (node: SvgNode, ctx: Ctx, ctm: Matrix) => {
    const f = measure.filters(node)!;
    const regionPx = pixelsOf(transformRect(ctm, f.region));
    const s = scaleOf(ctm);
    const regionW = Math.ceil((f.region.x1 - f.region.x0) * s.x);
    const regionH = Math.ceil((f.region.y1 - f.region.y0) * s.y);
    for (const p of f.primitives) {
      cost.filterWork += primitiveWeight(p, { w: regionW, h: regionH }, s, f) * regionPx * ctx.times;
      if (p.name === 'feImage') {
        // feImage draws an element of the document, or an embedded image, into the region.
        const target = hrefTarget(doc, p.node);
        if (target && GRAPHICS.has(target.name) && !ctx.active.has(target)) {
          visit(target, { ...ctx, ctm, surface: regionPx, active: new Set(ctx.active).add(target) });
        } else if (!target) imageCost(p.node, ctx, ctm);
      }
    }
  };

  const primitiveWeight = (p: FilterPrimitive, region: { w: number; h: number }, s: { x: number; y: number }, f: { primitiveUnitsBox: boolean; box: Rect }): number => {
    const a = p.node.attrs;
    if (p.css) return p.name === 'feGaussianBlur' ? IIR_BLUR_WEIGHT : p.name === 'feDropShadow' ? IIR_BLUR_WEIGHT + BASE_WEIGHT : BASE_WEIGHT;
    switch (p.name) {
      case 'feGaussianBlur':
      case 'feDropShadow': {
        const sd = parseNumberList(a.stdDeviation ?? '0');
        const bw = f.primitiveUnitsBox ? f.box.x1 - f.box.x0 : 1;
        const bh = f.primitiveUnitsBox ? f.box.y1 - f.box.y0 : 1;
        const deviceX = Math.abs(sd[0] ?? 0) * bw * s.x;
        const deviceY = Math.abs(sd[1] ?? sd[0] ?? 0) * bh * s.y;
        const extra = p.name === 'feDropShadow' ? BASE_WEIGHT : 0; // its offset and merge
        if (deviceX === 0 && deviceY === 0) return BASE_WEIGHT + extra;
        return (Math.max(deviceX, deviceY) > 2 ? BOX_BLUR_WEIGHT : IIR_BLUR_WEIGHT) + extra;
      }
      case 'feMerge':
        // Each feMergeNode composites one more input over the region (3 nodes measured 14).
        return BASE_WEIGHT + 3 * Math.max(1, p.node.children.filter((c) => c.name === 'feMergeNode').length);
      case 'feTurbulence': {
        // Noise costs about 19 per pixel plus 11 per octave; resvg does not limit numOctaves.
        const octaves = Number.parseFloat(a.numOctaves ?? '1');
        return 8 + 11 * Math.max(1, Number.isFinite(octaves) ? Math.round(octaves) : 1);
      }
      case 'feConvolveMatrix': {
        // Every output pixel reads the whole kernel (order² values).
        const order = parseNumberList(a.order ?? '3');
        const ox = Math.max(1, Math.round(order[0] ?? 3));
        const oy = Math.max(1, Math.round(order[1] ?? order[0] ?? 3));
        return BASE_WEIGHT + Math.ceil(0.9 * ox * oy);
      }
      case 'feMorphology': {
        // resvg's morphology visits (2·radius)² neighbours per pixel, capped by the region's size.
        const r = parseNumberList(a.radius ?? '1');
        const bw = f.primitiveUnitsBox ? f.box.x1 - f.box.x0 : 1;
        const bh = f.primitiveUnitsBox ? f.box.y1 - f.box.y0 : 1;
        const cols = Math.min(2 * Math.ceil(Math.abs(r[0] ?? 1) * bw * s.x), Math.max(region.w, 1));
        const rows = Math.min(2 * Math.ceil(Math.abs(r[1] ?? r[0] ?? 1) * bh * s.y), Math.max(region.h, 1));
        return BASE_WEIGHT + Math.ceil((cols * rows) / 7);
      }
      default:
        return WEIGHTS[p.name] ?? BASE_WEIGHT;
    }
  };

  const imageCost = (node: SvgNode, ctx: Ctx, ctm: Matrix) => {
    const img = options.image(node);
    if (img.kind === 'raster') {
      const box = measure.contentBox(node);
      if (box) cost.paintPixels += Math.min(pixelsOf(transformRect(ctm, box)), ctx.surface) * ctx.times;
      // resvg decodes every <image> when it builds its render tree, and keeps all of them.
      const px = img.width * img.height;
      cost.imagePixels += px * ctx.times;
      if (!cost.largestImage || px > cost.largestImage.width * cost.largestImage.height) cost.largestImage = { width: img.width, height: img.height };
    } else if (img.kind === 'svg') {
      // An SVG image is drawn on a surface as large as the one it lands on, then composited.
      cost.layerPixels += ctx.surface * ctx.times;
      const w = measure.length(node, 'width', 'x', img.size.width);
      const h = measure.length(node, 'height', 'y', img.size.height);
      const vb = parseViewBox(img.doc.root.attrs.viewBox) ?? { x: 0, y: 0, w: img.size.width, h: img.size.height };
      const place = multiply(
        [1, 0, 0, 1, measure.length(node, 'x', 'x', 0), measure.length(node, 'y', 'y', 0)],
        viewBoxTransform(vb, node.attrs.preserveAspectRatio, w, h),
      );
      // resvg drops every <image> inside an SVG image.
      const nested = renderCost(img.doc, img.measure, { canvas, rootTransform: multiply(ctm, place), image: () => ({ kind: 'none' }) });
      // Parsing it (every <use> expanded) is repeated for each copy, like drawing it.
      cost.drawnElements += Math.max(nested.drawnElements, img.parse.elements) * ctx.times;
      cost.useLookupSteps += img.parse.useLookupSteps * ctx.times;
      cost.cssMatches += img.parse.cssMatches * ctx.times;
      cost.filterWork += nested.filterWork * ctx.times;
      cost.layerPixels += nested.layerPixels * ctx.times;
      cost.textChars += nested.textChars * ctx.times;
      cost.dashes += nested.dashes * ctx.times;
      cost.gradientWork += nested.gradientWork * ctx.times;
      cost.paintPixels += nested.paintPixels * ctx.times;
      if (cost.drawnElements > MAX_SVG_ELEMENTS) throw new TooManyElements();
    }
  };

  /** tiny-skia evaluates a gradient by walking its stops for every pixel it paints. */
  const gradientCost = (node: SvgNode, ctx: Ctx, ctm: Matrix, candidates: string[]) => {
    let stops = 0;
    for (const v of candidates) {
      const g = measure.reference(v, ['linearGradient', 'radialGradient']);
      if (g) stops = Math.max(stops, gradientStops(g));
    }
    if (stops < 2) return; // one stop paints a plain colour
    const box = measure.contentBox(node);
    if (!box) return;
    cost.gradientWork += Math.min(pixelsOf(transformRect(ctm, box)), ctx.surface) * stops * ctx.times;
  };

  /** Stops come from the first gradient along the `href` chain that has any. */
  const gradientStops = (g: SvgNode): number => {
    let n: SvgNode | undefined = g;
    for (let hops = 0; n && hops < 32; hops++) {
      const stops = n.children.filter((c) => c.name === 'stop').length;
      if (stops > 0) return stops;
      const next = hrefTarget(doc, n);
      n = next && (next.name === 'linearGradient' || next.name === 'radialGradient') ? next : undefined;
    }
    return 0;
  };

  /** Pixels a shape's fill and stroke touch: its bounds on the surface, at most the surface. */
  const coverageCost = (node: SvgNode, ctx: Ctx, ctm: Matrix, inherited: Inherited, limit: number) => {
    const box = measure.contentBox(node);
    if (!box) return;
    const fills = inherited.fill?.every((v) => v.trim() === 'none') ? 0 : 1; // black unless "none"
    const strokes = inherited.stroke?.some((v) => v.trim() !== 'none') ? 1 : 0;
    const px = Math.min(pixelsOf(transformRect(ctm, box)), ctx.surface, limit);
    cost.paintPixels += px * (fills + strokes) * ctx.times;
  };

  const paintCost = (node: SvgNode, ctx: Ctx, ctm: Matrix, inherited: Inherited) => {
    for (const prop of ['fill', 'stroke'] as const) {
      const values = inherited[prop] ?? [];
      gradientCost(node, ctx, ctm, values);
      const pattern = values.map((v) => measure.reference(v, ['pattern'])).find(Boolean);
      if (!pattern || ctx.active.has(pattern)) continue;
      const units = (measure.inherited(pattern, 'patternUnits') ?? '').trim() === 'userSpaceOnUse' ? 'user' : 'box';
      const box = measure.contentBox(node);
      if (!box) continue;
      const dim = (attr: string, axis: 'x' | 'y') => {
        const raw = measure.inherited(pattern, attr);
        const n = raw === undefined ? 0 : Number.parseFloat(raw);
        if (!Number.isFinite(n) || n <= 0) return 0;
        if (units === 'box') return (raw!.trim().endsWith('%') ? n / 100 : n) * (axis === 'x' ? box.x1 - box.x0 : box.y1 - box.y0);
        return measureLength(pattern, attr, axis);
      };
      const w = dim('width', 'x');
      const h = dim('height', 'y');
      const pt = parseTransform(measure.inherited(pattern, 'patternTransform')) ?? IDENTITY;
      const s = scaleOf(multiply(ctm, pt));
      // resvg renders one tile at device resolution, however large, for every shape it fills.
      const tile = Math.round(w * s.x) * Math.round(h * s.y);
      if (!(tile >= 1)) continue;
      cost.layerPixels += tile * ctx.times;
      let content: Matrix = scale(s.x, s.y);
      const vb = parseViewBox(measure.inherited(pattern, 'viewBox'));
      if (vb) content = multiply(content, viewBoxTransform(vb, measure.inherited(pattern, 'preserveAspectRatio'), w, h));
      else if ((measure.inherited(pattern, 'patternContentUnits') ?? '').trim() === 'objectBoundingBox') {
        content = multiply(content, [box.x1 - box.x0, 0, 0, box.y1 - box.y0, 0, 0]);
      }
      const source = patternWithChildren(pattern);
      const inner: Ctx = { ...ctx, ctm: content, surface: tile, active: new Set(ctx.active).add(pattern) };
      for (const child of source.children) visit(child, inner);
    }
  };

  const measureLength = (node: SvgNode, attr: string, axis: 'x' | 'y') => {
    const raw = measure.inherited(node, attr);
    return raw === undefined ? 0 : measure.length({ ...node, attrs: { ...node.attrs, [attr]: raw } }, attr, axis, 0);
  };

  const patternWithChildren = (pattern: SvgNode): SvgNode => {
    let n: SvgNode | undefined = pattern;
    for (let hops = 0; n && hops < 32; hops++) {
      if (n.children.some((c) => c.name)) return n;
      const next = hrefTarget(doc, n);
      n = next?.name === 'pattern' ? next : undefined;
    }
    return pattern;
  };

  /** tiny-skia cuts a dashed stroke into separate segments before stroking each: cost per dash. */
  const dashCost = (node: SvgNode, ctx: Ctx, candidates: string[]) => {
    let worst = 0;
    for (const value of candidates) {
      if (value.trim() === 'none') continue;
      const lengths = value.split(/[\s,]+/).filter(Boolean).map((v) => measure.lengthValue(node, v, 'xy'));
      // resvg ignores a dash array with a negative or invalid entry, or one that sums to zero.
      if (lengths.length === 0 || lengths.some((l) => !(l >= 0))) continue;
      const pattern = lengths.length % 2 === 1 ? [...lengths, ...lengths] : lengths;
      const period = pattern.reduce((a, b) => a + b, 0);
      if (!(period > 0)) continue;
      const dashes = Math.ceil(measure.outlineLength(node) / period) * (pattern.length / 2);
      worst = Math.max(worst, Math.min(dashes, MAX_DASHES_PER_PATH));
    }
    cost.dashes += worst * ctx.times;
  };

  const markerCost = (node: SvgNode, ctx: Ctx, ctm: Matrix, markers: Inherited) => {
    const extent = measure.markable(node);
    if (!extent || extent.vertices === 0) return;
    for (const [prop, copies] of [
      ['marker-start', 1],
      ['marker-mid', Math.max(0, extent.vertices - 2)],
      ['marker-end', 1],
    ] as const) {
      const marker = (markers[prop] ?? []).map((v) => measure.reference(v, ['marker'])).find(Boolean);
      if (!marker || copies === 0 || ctx.active.has(marker)) continue;
      const mw = measure.length(marker, 'markerWidth', 'x', 3);
      const mh = measure.length(marker, 'markerHeight', 'y', 3);
      if (!(mw > 0 && mh > 0)) continue;
      const units = (marker.attrs.markerUnits ?? '').trim() === 'userSpaceOnUse' ? 1 : measure.strokeWidth(node) || 1;
      const m = multiply(ctm, scale(units, units));
      const times = ctx.times * copies;
      const overflow = (marker.attrs.overflow ?? '').trim();
      if (overflow !== 'visible' && overflow !== 'auto') {
        // Markers clip to their viewport: one layer per copy. Orientation may rotate it; its
        // bounding square is counted.
        const side = Math.max(mw, mh) * Math.SQRT2;
        cost.layerPixels += Math.min(pixelsOf(transformRect(m, rectOf(0, 0, side, side))), maxLayer) * times;
      }
      const vb = parseViewBox(marker.attrs.viewBox);
      const content = vb ? multiply(m, viewBoxTransform(vb, marker.attrs.preserveAspectRatio, mw, mh)) : m;
      const inner: Ctx = { ...ctx, ctm: content, times, active: new Set(ctx.active).add(marker), inherited: {} };
      for (const child of marker.children) visit(child, inner);
    }
  };

  const visit = (node: SvgNode, ctx: Ctx): void => {
    if (!GRAPHICS.has(node.name) || measure.hidden(node)) return;
    const own = measure.ownTransform(node);
    if (!own) return;
    count(ctx);
    const ctm = own === IDENTITY ? ctx.ctm : multiply(ctx.ctm, own);
    // Fill, stroke and markers are inherited, through <use> too: carried down the walk.
    let inherited = ctx.inherited;
    if (node.props.size > 0) {
      for (const p of INHERITED) {
        const v = node.props.get(p);
        if (v) inherited = { ...inherited, [p]: v };
      }
    }
    let viewportClip = false;
    let content = ctm;
    let children: SvgNode[] = node.children;
    if (node.name === 'svg' && node.parent) {
      const vp = measure.viewport(node);
      viewportClip = vp.clip !== null;
      content = multiply(ctm, vp.transform);
    } else if (node.name === 'use') {
      const target = hrefTarget(doc, node);
      if (!target || measure.hidden(target)) return;
      if (target.name === 'symbol' || target.name === 'svg') {
        const size = {
          w: node.attrs.width ? measure.length(node, 'width', 'x', 0) : undefined,
          h: node.attrs.height ? measure.length(node, 'height', 'y', 0) : undefined,
        };
        const vp = measure.viewport(target, size);
        viewportClip = vp.clip !== null;
        content = multiply(ctm, vp.transform);
        children = target.children;
        count(ctx); // the symbol's own group
      } else {
        children = [target];
      }
    }
    const surface = node.props.size > 0 || viewportClip ? group(node, ctx, ctm, viewportClip) : ctx.surface;
    if (SHAPES.has(node.name) || node.name === 'text') {
      let painted = Infinity;
      if (node.name === 'text') {
        const size = textSize(node);
        count(ctx, size.elements - 1);
        cost.textChars += size.chars * ctx.times;
        // Glyphs cover far less than the text's (generous) bounds: at most an em square each.
        const s = scaleOf(ctm);
        const em = measure.fontSize(node);
        painted = size.chars * em * em * s.x * s.y;
      }
      coverageCost(node, ctx, ctm, inherited, painted);
      if (inherited.fill || inherited.stroke) paintCost(node, ctx, ctm, inherited);
      if (inherited['stroke-dasharray'] && inherited.stroke?.some((v) => v.trim() !== 'none')) dashCost(node, ctx, inherited['stroke-dasharray']);
      if (inherited['marker-start'] || inherited['marker-mid'] || inherited['marker-end']) markerCost(node, ctx, ctm, inherited);
      return;
    }
    if (node.name === 'image') {
      imageCost(node, ctx, ctm);
      return;
    }
    const inner: Ctx = { ...ctx, ctm: content, surface, inherited };
    for (const child of children) visit(child, inner);
  };

  const root: Ctx = {
    ctm: options.rootTransform,
    times: 1,
    surface: canvas.width * canvas.height,
    inherited: {},
    active: new Set(),
  };
  try {
    // The root <svg> is drawn like a group: its opacity, filter or mask apply to everything.
    visit({ ...doc.root, name: 'g', parent: null }, root);
  } catch (err) {
    if (!(err instanceof TooManyElements)) throw err;
  }
  return cost;
}
