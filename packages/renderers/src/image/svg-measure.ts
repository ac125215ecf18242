import type { SvgDocument, SvgNode } from './svg-document.js';
import { hrefTarget } from './svg-expansion.js';
import {
  expand,
  IDENTITY,
  intersect,
  multiply,
  parseLength,
  parseNumberList,
  parseTransform,
  parseViewBox,
  pathExtent,
  pointsExtent,
  rectOf,
  transformRect,
  translate,
  union,
  viewBoxTransform,
  toUserUnits,
  type Matrix,
  type PathExtent,
  type Rect,
} from './svg-geometry.js';

/** resvg-js's default font size when the SVG sets none. */
const DEFAULT_FONT_SIZE = 12;
/** Generous bound on a glyph's advance in em (DejaVu's widest common glyphs are under 1.3 em). */
const MAX_ADVANCE_EM = 1.5;

/** Elements resvg draws (containers and graphics); anything else only matters when referenced. */
export const GRAPHICS = new Set(['g', 'a', 'switch', 'svg', 'use', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'path', 'text', 'image']);
export const SHAPES = new Set(['rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'path']);
const MARKABLE = new Set(['path', 'line', 'polyline', 'polygon']);

export interface FilterPrimitive {
  name: string;
  node: SvgNode;
  /** CSS filter functions (`blur(4px)`) have no element to read; they are costed as their worst case. */
  css?: boolean;
}

export interface ResolvedFilters {
  /** The region every filter of the element is applied over, in the element's user space. */
  region: Rect;
  primitives: FilterPrimitive[];
  /** True when primitive lengths (feMorphology radius) are fractions of the bounding box. */
  primitiveUnitsBox: boolean;
  box: Rect;
}

/**
 * Geometry of one document, measured as resvg would lay it out but bounded from above where the
 * exact answer needs resvg itself (text extents, arcs, miter joins). Every result is memoised per
 * element: a `<use>` target is measured once however often it is drawn.
 */
export interface Measure {
  values(node: SvgNode, property: string): readonly string[];
  fontSize(node: SvgNode): number;
  strokeWidth(node: SvgNode): number;
  length(node: SvgNode, attr: string, axis: 'x' | 'y' | 'xy', fallback: number): number;
  /** A length written in a property value (`2mm`, `5%`), in user units; NaN when it does not parse. */
  lengthValue(node: SvgNode, text: string, axis: 'x' | 'y' | 'xy'): number;
  /** The element's `transform` (with a `<use>`'s x/y); null when it hides the element. */
  ownTransform(node: SvgNode): Matrix | null;
  /** For `<svg>` and `<symbol>` viewports: the content transform and the clip (null when overflow shows). */
  viewport(node: SvgNode, size?: { w?: number; h?: number }): { transform: Matrix; clip: Rect | null };
  hidden(node: SvgNode): boolean;
  /** Bounds of what the element draws, stroke included, in its own user space. */
  contentBox(node: SvgNode): Rect | null;
  /** What its parent sees of it: the filter region when it has one, else its content box. */
  outerBox(node: SvgNode): Rect | null;
  filters(node: SvgNode): ResolvedFilters | null;
  /** The element a `url(#id)` value or an `href` names, when it has one of `names`. */
  reference(value: string | undefined, names: string[]): SvgNode | undefined;
  /** Follows `href` between elements of the same kind (patterns, filters, gradients) to an attribute. */
  inherited(node: SvgNode, attr: string): string | undefined;
  markable(node: SvgNode): PathExtent | null;
  /** An upper bound on the length of what a stroke follows (a shape's outline; glyph outlines of text). */
  outlineLength(node: SvgNode): number;
  intrinsicImageSize(node: SvgNode): { width: number; height: number } | undefined;
}

export interface MeasureOptions {
  /** The viewport percentages refer to (resvg uses the nearest one; the root's is close enough). */
  viewport: { w: number; h: number };
  /** Pixel size of the image an `<image>` element embeds, if any. */
  imageSize(node: SvgNode): { width: number; height: number } | undefined;
}

/** Builds the memoised measurements of `doc`. */
export function createMeasure(doc: SvgDocument, options: MeasureOptions): Measure {
  const { w: vw, h: vh } = options.viewport;
  const diagonal = Math.sqrt((vw * vw + vh * vh) / 2);
  const fontSizes = new Map<SvgNode, number>();
  const contentBoxes = new Map<SvgNode, Rect | null>();
  const filterCache = new Map<SvgNode, ResolvedFilters | null>();
  const extents = new Map<SvgNode, PathExtent | null>();
  const measuring = new Set<SvgNode>();

  const values = (node: SvgNode, property: string): readonly string[] => node.props.get(property) ?? NONE;

  const fontSize = (node: SvgNode | null): number => {
    if (!node) return DEFAULT_FONT_SIZE;
    let size = fontSizes.get(node);
    if (size !== undefined) return size;
    const parentSize = fontSize(node.parent);
    size = parentSize;
    const named: Record<string, number> = { 'xx-small': -3, 'x-small': -2, small: -1, medium: 0, large: 1, 'x-large': 2, 'xx-large': 3, smaller: -1, larger: 1 };
    // With several candidate values (attribute, CSS, style), the largest is assumed.
    const own = values(node, 'font-size');
    const candidates = own.length === 0 ? NONE_NUMBERS : own.map((v) => {
      const len = parseLength(v);
      if (len) return len.unit === '%' ? (len.value / 100) * parentSize : toUserUnits(len, parentSize, parentSize);
      const step = named[v.trim()];
      return step === undefined ? parentSize : parentSize * 1.2 ** step;
    });
    if (candidates.length > 0) size = Math.max(...candidates.map((c) => Math.abs(c)));
    fontSizes.set(node, size);
    return size;
  };

  const length = (node: SvgNode, attr: string, axis: 'x' | 'y' | 'xy', fallback: number): number => {
    const len = parseLength(node.attrs[attr]);
    if (!len) return fallback;
    return toUserUnits(len, axis === 'x' ? vw : axis === 'y' ? vh : diagonal, fontSize(node));
  };

  const stroked = new Map<SvgNode, boolean>();
  const isStroked = (node: SvgNode | null): boolean => {
    if (!node) return false;
    let s = stroked.get(node);
    if (s !== undefined) return s;
    const own = values(node, 'stroke');
    s = own.length > 0 ? own.some((v) => v.trim() !== 'none') : isStroked(node.parent);
    stroked.set(node, s);
    return s;
  };
  /** The (largest candidate) stroke width in effect, 0 when nothing sets a stroke. */
  const strokeWidth = (node: SvgNode | null): number => (node && isStroked(node) ? strokeWidthOf(node) : 0);
  /** The width itself, stroked or not (it is inherited separately from `stroke`). */
  const widthsMemo = new Map<SvgNode, number>();
  const strokeWidthOf = (node: SvgNode): number => {
    let w = widthsMemo.get(node);
    if (w !== undefined) return w;
    const own = values(node, 'stroke-width');
    w = own.length > 0 ? widthOf(node, own) : node.parent ? strokeWidthOf(node.parent) : 1;
    widthsMemo.set(node, w);
    return w;
  };
  const widthOf = (node: SvgNode, own: readonly string[]): number => {
    const widths = own
      .map((v) => parseLength(v))
      .filter((l) => l !== undefined)
      .map((l) => Math.abs(toUserUnits(l!, diagonal, fontSize(node))));
    return widths.length > 0 ? Math.max(...widths) : node.parent ? strokeWidthOf(node.parent) : 1;
  };

  const reference = (value: string | undefined, names: string[]): SvgNode | undefined => {
    if (!value) return undefined;
    const m = /^\s*url\(\s*["']?#([^"')]+?)["']?\s*\)/.exec(value) ?? /^\s*#(\S+)\s*$/.exec(value);
    if (!m) return undefined;
    const target = doc.byId.get(m[1]!);
    return target && names.includes(target.name) ? target : undefined;
  };

  const inherited = (node: SvgNode, attr: string): string | undefined => {
    let n: SvgNode | undefined = node;
    for (let hops = 0; n && hops < 32; hops++) {
      if (n.attrs[attr] !== undefined) return n.attrs[attr];
      const next = hrefTarget(doc, n);
      n = next && next.name === node.name ? next : undefined;
    }
    return undefined;
  };

  const transforms = new Map<SvgNode, Matrix | null>();
  const ownTransform = (node: SvgNode): Matrix | null => {
    if (!node.attrs.transform && node.name !== 'use') return IDENTITY;
    let t = transforms.get(node);
    if (t !== undefined) return t;
    t = parseTransform(node.attrs.transform);
    if (t && node.name === 'use') t = multiply(t, translate(length(node, 'x', 'x', 0), length(node, 'y', 'y', 0)));
    transforms.set(node, t);
    return t;
  };

  const viewport = (node: SvgNode, size?: { w?: number; h?: number }) => {
    const x = node.name === 'svg' ? length(node, 'x', 'x', 0) : 0;
    const y = node.name === 'svg' ? length(node, 'y', 'y', 0) : 0;
    const w = size?.w ?? length(node, 'width', 'x', vw);
    const h = size?.h ?? length(node, 'height', 'y', vh);
    const vb = parseViewBox(node.attrs.viewBox);
    const transform = multiply(translate(x, y), vb && w > 0 && h > 0 ? viewBoxTransform(vb, node.attrs.preserveAspectRatio, w, h) : IDENTITY);
    const overflow = (node.attrs.overflow ?? '').trim();
    const clip = overflow === 'visible' || overflow === 'auto' ? null : rectOf(x, y, w, h);
    return { transform, clip };
  };

  const hidden = (node: SvgNode): boolean => {
    const display = values(node, 'display');
    return display.length > 0 && display.every((v) => v.trim() === 'none');
  };

  const markable = (node: SvgNode): PathExtent | null => {
    if (extents.has(node)) return extents.get(node)!;
    let e: PathExtent | null = null;
    if (node.name === 'path') e = pathExtent(node.attrs.d ?? '');
    else if (node.name === 'polyline' || node.name === 'polygon') e = pointsExtent(node.attrs.points ?? '');
    else if (node.name === 'line') {
      const [x1, y1, x2, y2] = [length(node, 'x1', 'x', 0), length(node, 'y1', 'y', 0), length(node, 'x2', 'x', 0), length(node, 'y2', 'y', 0)];
      e = { box: { x0: Math.min(x1, x2), y0: Math.min(y1, y2), x1: Math.max(x1, x2), y1: Math.max(y1, y2) }, vertices: 2, length: Math.hypot(x2 - x1, y2 - y1) };
    }
    extents.set(node, e);
    return e;
  };

  const hasMarkers = [...doc.byId.values()].some((n) => n.name === 'marker');
  const markerReach = (node: SvgNode): number => {
    if (!hasMarkers || !MARKABLE.has(node.name)) return 0;
    let reach = 0;
    for (let n: SvgNode | null = node; n; n = n.parent) {
      for (const p of ['marker-start', 'marker-mid', 'marker-end']) {
        for (const v of values(n, p)) {
          const m = reference(v, ['marker']);
          if (!m) continue;
          const size = Math.max(length(m, 'markerWidth', 'x', 3), length(m, 'markerHeight', 'y', 3));
          const units = (m.attrs.markerUnits ?? 'strokeWidth').trim() === 'userSpaceOnUse' ? 1 : Math.max(strokeWidth(node), 1);
          reach = Math.max(reach, 2 * size * units);
        }
      }
    }
    return reach;
  };

  const shapeBox = (node: SvgNode): Rect | null => {
    switch (node.name) {
      case 'rect': {
        const w = length(node, 'width', 'x', 0);
        const h = length(node, 'height', 'y', 0);
        return w > 0 && h > 0 ? rectOf(length(node, 'x', 'x', 0), length(node, 'y', 'y', 0), w, h) : null;
      }
      case 'circle': {
        const r = length(node, 'r', 'xy', 0);
        return r > 0 ? expand(rectOf(length(node, 'cx', 'x', 0), length(node, 'cy', 'y', 0), 0, 0), r) : null;
      }
      case 'ellipse': {
        const rx = length(node, 'rx', 'x', length(node, 'ry', 'y', 0));
        const ry = length(node, 'ry', 'y', rx);
        const [cx, cy] = [length(node, 'cx', 'x', 0), length(node, 'cy', 'y', 0)];
        return rx > 0 && ry > 0 ? rectOf(cx - rx, cy - ry, 2 * rx, 2 * ry) : null;
      }
      case 'image': {
        const size = intrinsicImageSize(node);
        const w = length(node, 'width', 'x', size?.width ?? 0);
        const h = length(node, 'height', 'y', size?.height ?? 0);
        return w > 0 && h > 0 ? rectOf(length(node, 'x', 'x', 0), length(node, 'y', 'y', 0), w, h) : null;
      }
      default:
        return markable(node)?.box ?? null;
    }
  };

  const intrinsicImageSize = (node: SvgNode) => options.imageSize(node);

  /** Text is laid out by resvg with the shipped fonts; this bounds it from glyph counts and sizes. */
  const textBox = (node: SvgNode): Rect | null => {
    let chars = 0;
    let fs = 0;
    let spacing = 0;
    let extra = 0;
    let vertical = false;
    let anchors: Rect | null = null;
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (!n.name) continue;
      chars += n.text;
      fs = Math.max(fs, fontSize(n));
      for (const p of ['letter-spacing', 'word-spacing']) {
        for (const v of values(n, p)) {
          const len = parseLength(v);
          if (len) spacing = Math.max(spacing, Math.abs(toUserUnits(len, diagonal, fontSize(n))));
        }
      }
      if (values(n, 'writing-mode').some((v) => /^(tb|vertical)/.test(v.trim()))) vertical = true;
      const xs = parseNumberList(n.attrs.x ?? '');
      const ys = parseNumberList(n.attrs.y ?? '');
      for (const x of xs.length ? xs : [0]) for (const y of ys.length ? ys : [0]) anchors = union(anchors, { x0: x, y0: y, x1: x, y1: y });
      for (const d of [...parseNumberList(n.attrs.dx ?? ''), ...parseNumberList(n.attrs.dy ?? '')]) extra += Math.abs(d);
      extra += Math.abs(length(n, 'textLength', 'x', 0));
      if (n.name === 'textPath') {
        const path = hrefTarget(doc, n);
        const box = path ? markable(path)?.box : null;
        if (box) anchors = union(anchors, box);
      }
      for (const c of n.children) stack.push(c);
    }
    if (chars === 0 || !anchors) return null;
    const run = chars * (MAX_ADVANCE_EM * fs + spacing) + extra;
    const across = vertical ? run : 2 * fs + extra;
    const along = vertical ? run + 2 * fs : run;
    return { x0: anchors.x0 - along, x1: anchors.x1 + along, y0: anchors.y0 - across, y1: anchors.y1 + across };
  };

  const contentBox = (node: SvgNode): Rect | null => {
    if (contentBoxes.has(node)) return contentBoxes.get(node)!;
    if (measuring.has(node)) return null; // a reference cycle: refused elsewhere, drawn as nothing here
    measuring.add(node);
    let box: Rect | null = null;
    if (node.name === 'text') {
      box = textBox(node);
      if (box) box = expand(box, strokeWidth(node) / 2);
    } else if (SHAPES.has(node.name) || node.name === 'image') {
      box = shapeBox(node);
      if (box && node.name !== 'image') {
        const sw = strokeWidth(node);
        // Miter joins of paths reach up to miterlimit (4) half-widths out; other shapes half a width.
        box = expand(box, (MARKABLE.has(node.name) && node.name !== 'line' ? 2 : 0.5) * sw + markerReach(node));
      }
    } else if (node.name === 'use') {
      const target = hrefTarget(doc, node);
      if (target && GRAPHICS_OR_SYMBOL.has(target.name) && !hidden(target)) {
        const t = target.name === 'symbol' || target.name === 'svg' ? null : ownTransform(target);
        if (target.name === 'symbol' || target.name === 'svg') {
          const size = { w: node.attrs.width ? length(node, 'width', 'x', vw) : undefined, h: node.attrs.height ? length(node, 'height', 'y', vh) : undefined };
          box = viewportBox(target, size);
        } else if (t) {
          const inner = outerBox(target);
          box = inner ? transformRect(t, inner) : null;
        }
      }
    } else if (node.name === 'svg' && node.parent) {
      box = viewportBox(node);
    } else {
      box = childrenBox(node, IDENTITY);
    }
    measuring.delete(node);
    contentBoxes.set(node, box);
    return box;
  };

  const childrenBox = (node: SvgNode, m: Matrix): Rect | null => {
    let box: Rect | null = null;
    for (const child of node.children) {
      if (!GRAPHICS.has(child.name) || hidden(child)) continue;
      const t = ownTransform(child);
      const inner = t && outerBox(child);
      if (t && inner) box = union(box, transformRect(multiply(m, t), inner));
    }
    return box;
  };

  const viewportBox = (node: SvgNode, size?: { w?: number; h?: number }): Rect | null => {
    const { transform, clip } = viewport(node, size);
    const inner = childrenBox(node, transform);
    return inner && clip ? intersect(inner, clip) : inner;
  };

  const filters = (node: SvgNode): ResolvedFilters | null => {
    if (filterCache.has(node)) return filterCache.get(node)!;
    let best: ResolvedFilters | null = null;
    let bestSize = -1;
    // With several candidate values, the one with the largest region × primitive count is assumed.
    for (const value of values(node, 'filter')) {
      const r = resolveFilterList(node, value);
      const size = r ? (r.region.x1 - r.region.x0) * (r.region.y1 - r.region.y0) * Math.max(1, r.primitives.length) : -1;
      if (r && size > bestSize) [best, bestSize] = [r, size];
    }
    filterCache.set(node, best);
    return best;
  };

  const resolveFilterList = (node: SvgNode, value: string): ResolvedFilters | null => {
    if (value.trim() === 'none') return null;
    const box = contentBox(node);
    let region: Rect | null = null;
    const primitives: FilterPrimitive[] = [];
    let primitiveUnitsBox = false;
    for (const m of value.matchAll(/([a-zA-Z-]+)\s*\(([^)]*)\)/g)) {
      const fn = m[1]!.toLowerCase();
      if (fn === 'url') {
        const f = reference(m[0], ['filter']);
        if (!f) continue;
        const units = (inherited(f, 'filterUnits') ?? '').trim() === 'userSpaceOnUse' ? 'user' : 'box';
        primitiveUnitsBox ||= (inherited(f, 'primitiveUnits') ?? '').trim() === 'objectBoundingBox';
        const r = filterRegion(f, units, box);
        if (!r) continue;
        region = union(region, r);
        primitives.push(...filterPrimitives(f));
      } else if (box) {
        // CSS filter functions: one primitive each, over 2× the box for blurs and shadows.
        const big = fn === 'blur' || fn === 'drop-shadow';
        const [fx, fw] = big ? [-0.5, 2] : [-0.1, 1.2];
        region = union(region, boxFraction(box, fx, fx, fw, fw));
        primitives.push({ name: big ? (fn === 'blur' ? 'feGaussianBlur' : 'feDropShadow') : 'feColorMatrix', node, css: true });
      }
    }
    if (!region || !box) return null;
    return { region, primitives, primitiveUnitsBox, box };
  };

  const filterRegion = (f: SvgNode, units: 'user' | 'box', box: Rect | null): Rect | null => {
    const read = (attr: string, axis: 'x' | 'y', fallback: number) => {
      const raw = inherited(f, attr);
      const len = parseLength(raw);
      if (!len) return units === 'box' ? fallback : (fallback * (axis === 'x' ? vw : vh));
      if (units === 'box') return len.unit === '%' ? len.value / 100 : len.value;
      return toUserUnits(len, axis === 'x' ? vw : vh, fontSize(f));
    };
    const [x, y, w, h] = [read('x', 'x', -0.1), read('y', 'y', -0.1), read('width', 'x', 1.2), read('height', 'y', 1.2)];
    if (!(w > 0 && h > 0)) return null;
    if (units === 'user') return rectOf(x, y, w, h);
    return box ? boxFraction(box, x, y, w, h) : null;
  };

  const filterPrimitives = (f: SvgNode): FilterPrimitive[] => {
    let n: SvgNode | undefined = f;
    for (let hops = 0; n && hops < 32; hops++) {
      const prims = n.children.filter((c) => c.name.startsWith('fe'));
      if (n.children.some((c) => c.name)) return prims.map((p) => ({ name: p.name, node: p }));
      const next = hrefTarget(doc, n);
      n = next?.name === 'filter' ? next : undefined;
    }
    return [];
  };

  const outerBox = (node: SvgNode): Rect | null => {
    const f = values(node, 'filter').length > 0 ? filters(node) : null;
    return f ? f.region : contentBox(node);
  };

  const outlineLength = (node: SvgNode): number => {
    switch (node.name) {
      case 'rect':
        return 2 * (Math.abs(length(node, 'width', 'x', 0)) + Math.abs(length(node, 'height', 'y', 0)));
      case 'circle':
        return 2 * Math.PI * Math.abs(length(node, 'r', 'xy', 0));
      case 'ellipse':
        return 2 * Math.PI * Math.max(Math.abs(length(node, 'rx', 'x', 0)), Math.abs(length(node, 'ry', 'y', 0)));
      case 'text': {
        // A glyph's outline is at most a few em long; 8 em is generous for DejaVu.
        let chars = 0;
        let fs = 0;
        const stack = [node];
        while (stack.length > 0) {
          const n = stack.pop()!;
          chars += n.text;
          fs = Math.max(fs, fontSize(n));
          for (const c of n.children) stack.push(c);
        }
        return chars * 8 * fs;
      }
      default:
        return markable(node)?.length ?? 0;
    }
  };

  const lengthValue = (node: SvgNode, text: string, axis: 'x' | 'y' | 'xy'): number => {
    const len = parseLength(text);
    return len ? toUserUnits(len, axis === 'x' ? vw : axis === 'y' ? vh : diagonal, fontSize(node)) : NaN;
  };

  return {
    values,
    lengthValue,
    outlineLength,
    fontSize: (n) => fontSize(n),
    strokeWidth: (n) => strokeWidth(n),
    length,
    ownTransform,
    viewport,
    hidden,
    contentBox,
    outerBox,
    filters,
    reference,
    inherited,
    markable,
    intrinsicImageSize,
  };
}

const GRAPHICS_OR_SYMBOL = new Set([...GRAPHICS, 'symbol']);
const NONE: readonly string[] = Object.freeze([]);
const NONE_NUMBERS: number[] = [];

function boxFraction(box: Rect, x: number, y: number, w: number, h: number): Rect {
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  return rectOf(box.x0 + x * bw, box.y0 + y * bh, w * bw, h * bh);
}
