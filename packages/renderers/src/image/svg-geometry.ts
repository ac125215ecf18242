/**
 * The small amount of SVG geometry the cost analysis needs: lengths, transforms, viewBox mapping
 * and conservative bounding boxes of shapes and path data. Everything here is an *upper bound*
 * where resvg's exact answer would need its own layout (text, arcs), never a lower one, so a cost
 * computed from it can only be overestimated.
 */

/** An affine transform `[a, b, c, d, e, f]` as in SVG's `matrix(a b c d e f)`. */
export type Matrix = readonly [number, number, number, number, number, number];

export const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** `m × n`: applies `n` first, then `m`. */
export function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

export const translate = (x: number, y: number): Matrix => [1, 0, 0, 1, x, y];
export const scale = (x: number, y: number): Matrix => [x, 0, 0, y, 0, 0];

/** The scale factors tiny-skia's `Transform::get_scale` reports (used for pattern tiles and blur radii). */
export function scaleOf(m: Matrix): { x: number; y: number } {
  return { x: Math.hypot(m[0], m[2]), y: Math.hypot(m[1], m[3]) };
}

/** An axis-aligned rectangle; `null` stands for "nothing drawn". */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function union(a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function intersect(a: Rect, b: Rect): Rect | null {
  const r = { x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) };
  return r.x1 > r.x0 && r.y1 > r.y0 ? r : null;
}

export function expand(r: Rect, by: number): Rect {
  return { x0: r.x0 - by, y0: r.y0 - by, x1: r.x1 + by, y1: r.y1 + by };
}

export function rectOf(x: number, y: number, w: number, h: number): Rect {
  return { x0: Math.min(x, x + w), y0: Math.min(y, y + h), x1: Math.max(x, x + w), y1: Math.max(y, y + h) };
}

/** The bounding box of `r`'s four corners after `m`. */
export function transformRect(m: Matrix, r: Rect): Rect {
  const ax0 = m[0] * r.x0;
  const ax1 = m[0] * r.x1;
  const bx0 = m[1] * r.x0;
  const bx1 = m[1] * r.x1;
  const cy0 = m[2] * r.y0;
  const cy1 = m[2] * r.y1;
  const dy0 = m[3] * r.y0;
  const dy1 = m[3] * r.y1;
  return {
    x0: (ax0 < ax1 ? ax0 : ax1) + (cy0 < cy1 ? cy0 : cy1) + m[4],
    x1: (ax0 > ax1 ? ax0 : ax1) + (cy0 > cy1 ? cy0 : cy1) + m[4],
    y0: (bx0 < bx1 ? bx0 : bx1) + (dy0 < dy1 ? dy0 : dy1) + m[5],
    y1: (bx0 > bx1 ? bx0 : bx1) + (dy0 > dy1 ? dy0 : dy1) + m[5],
  };
}

export const width = (r: Rect): number => r.x1 - r.x0;
export const height = (r: Rect): number => r.y1 - r.y0;

/** Pixels of the integer rectangle resvg allocates for `r` (its `to_int_rect` rounds outwards). */
export function pixelsOf(r: Rect | null): number {
  if (!r) return 0;
  const w = Math.ceil(r.x1) - Math.floor(r.x0);
  const h = Math.ceil(r.y1) - Math.floor(r.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const SEPARATORS = /[\s,]*/y;

/** Reads numbers from `text` as SVG lists do (whitespace and/or commas between them). */
export function parseNumberList(text: string): number[] {
  const out: number[] = [];
  let at = 0;
  for (;;) {
    SEPARATORS.lastIndex = at;
    SEPARATORS.exec(text);
    at = SEPARATORS.lastIndex;
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) break;
    out.push(Number(m[0]));
    at = NUMBER.lastIndex;
  }
  return out;
}

export type LengthUnit = '' | 'px' | 'em' | 'ex' | 'in' | 'cm' | 'mm' | 'pt' | 'pc' | '%';
export interface Length {
  value: number;
  unit: LengthUnit;
}

const LENGTH = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(px|em|ex|in|cm|mm|pt|pc|%)?\s*$/;

/** An SVG length (`12`, `3.5mm`, `50%`), or undefined when resvg would ignore the attribute. */
export function parseLength(text: string | undefined): Length | undefined {
  if (text === undefined) return undefined;
  const m = LENGTH.exec(text);
  if (!m) return undefined;
  return { value: Number(m[1]), unit: (m[2] ?? '') as LengthUnit };
}

/** resvg's dpi (96): absolute units in px. */
const UNIT_PX: Record<string, number> = { '': 1, px: 1, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, pt: 96 / 72, pc: 96 / 6 };

/**
 * A length in user units. `percentOf` is the viewport side a percentage refers to; `fontSize`
 * resolves `em` (and `ex`, which resvg takes as half an em).
 */
export function toUserUnits(length: Length, percentOf: number, fontSize: number): number {
  switch (length.unit) {
    case 'em':
      return length.value * fontSize;
    case 'ex':
      return (length.value * fontSize) / 2;
    case '%':
      return (length.value / 100) * percentOf;
    default:
      return length.value * UNIT_PX[length.unit]!;
  }
}

const TRANSFORM_ITEM = /\s*,?\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)/y;

/**
 * Parses a `transform` attribute. resvg drops the attribute when it does not parse; a transform
 * that cannot be inverted (`scale(0)`) hides the element, reported here as `null`.
 */
export function parseTransform(text: string | undefined): Matrix | null {
  if (!text) return IDENTITY;
  let m: Matrix = IDENTITY;
  let at = 0;
  const source = text.trim();
  while (at < source.length) {
    TRANSFORM_ITEM.lastIndex = at;
    const item = TRANSFORM_ITEM.exec(source);
    if (!item) return IDENTITY;
    at = TRANSFORM_ITEM.lastIndex;
    const n = parseNumberList(item[2]!);
    let t: Matrix;
    switch (item[1]) {
      case 'matrix':
        if (n.length !== 6) return IDENTITY;
        t = n as unknown as Matrix;
        break;
      case 'translate':
        t = translate(n[0] ?? 0, n[1] ?? 0);
        break;
      case 'scale':
        t = scale(n[0] ?? 1, n[1] ?? n[0] ?? 1);
        break;
      case 'rotate': {
        const r = ((n[0] ?? 0) * Math.PI) / 180;
        const [cx, cy] = [n[1] ?? 0, n[2] ?? 0];
        t = multiply(multiply(translate(cx, cy), [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r), 0, 0]), translate(-cx, -cy));
        break;
      }
      case 'skewX':
        t = [1, 0, Math.tan(((n[0] ?? 0) * Math.PI) / 180), 1, 0, 0];
        break;
      default:
        t = [1, Math.tan(((n[0] ?? 0) * Math.PI) / 180), 0, 1, 0, 0];
    }
    m = multiply(m, t);
  }
  const det = m[0] * m[3] - m[1] * m[2];
  return det === 0 || !Number.isFinite(det) ? null : m;
}

export interface ViewBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A `viewBox` with a positive size, or undefined (resvg ignores any other). */
export function parseViewBox(text: string | undefined): ViewBox | undefined {
  if (!text) return undefined;
  const n = parseNumberList(text);
  if (n.length !== 4 || !(n[2]! > 0) || !(n[3]! > 0)) return undefined;
  return { x: n[0]!, y: n[1]!, w: n[2]!, h: n[3]! };
}

/** The transform mapping `viewBox` onto a `width`×`height` viewport under `preserveAspectRatio`. */
export function viewBoxTransform(vb: ViewBox, aspect: string | undefined, w: number, h: number): Matrix {
  const words = (aspect ?? '').trim().split(/\s+/);
  const align = words[0] === 'defer' ? words[1] : words[0];
  const slice = words.includes('slice');
  let sx = w / vb.w;
  let sy = h / vb.h;
  if (align === 'none') return multiply(scale(sx, sy), translate(-vb.x, -vb.y));
  const s = slice ? Math.max(sx, sy) : Math.min(sx, sy);
  sx = sy = s;
  const a = align && /^x(Min|Mid|Max)Y(Min|Mid|Max)$/.test(align) ? align : 'xMidYMid';
  const dx = a.startsWith('xMid') ? (w - vb.w * s) / 2 : a.startsWith('xMax') ? w - vb.w * s : 0;
  const dy = a.endsWith('YMid') ? (h - vb.h * s) / 2 : a.endsWith('YMax') ? h - vb.h * s : 0;
  return multiply(translate(dx, dy), multiply(scale(sx, sy), translate(-vb.x, -vb.y)));
}

export interface PathExtent {
  /** Bounds of every point and control point (curves lie inside them; arcs are widened). */
  box: Rect | null;
  /** Segment end points, where markers are drawn. */
  vertices: number;
  /** An upper bound on the outline's length (control polygons for curves, a full circle for arcs). */
  length: number;
}

const ARGS: Record<string, number> = { m: 2, l: 2, h: 1, v: 1, c: 6, s: 4, q: 4, t: 2, a: 7, z: 0 };

/** A cursor over path data; numbers are scanned by hand because paths are most of a large SVG. */
class PathScanner {
  at = 0;
  constructor(readonly d: string) {}

  skipSeparators(): void {
    const d = this.d;
    let c = d.charCodeAt(this.at);
    while (c === 32 || c === 44 || c === 9 || c === 10 || c === 13 || c === 12) c = d.charCodeAt(++this.at);
  }

  /** The next number, or NaN (and the cursor unmoved) when there is none. */
  number(): number {
    this.skipSeparators();
    const d = this.d;
    const start = this.at;
    let i = start;
    let c = d.charCodeAt(i);
    if (c === 43 || c === 45) c = d.charCodeAt(++i);
    let digits = 0;
    while (c >= 48 && c <= 57) {
      c = d.charCodeAt(++i);
      digits++;
    }
    if (c === 46) {
      c = d.charCodeAt(++i);
      while (c >= 48 && c <= 57) {
        c = d.charCodeAt(++i);
        digits++;
      }
    }
    if (digits === 0) return NaN;
    if (c === 101 || c === 69) {
      let j = i + 1;
      let e = d.charCodeAt(j);
      if (e === 43 || e === 45) e = d.charCodeAt(++j);
      if (e >= 48 && e <= 57) {
        while (e >= 48 && e <= 57) e = d.charCodeAt(++j);
        i = j;
      }
    }
    this.at = i;
    return Number(d.slice(start, i));
  }

  /** An arc flag: a single 0 or 1, separators optional ("a1 1 0 01 5 5"). */
  flag(): number {
    this.skipSeparators();
    const c = this.d.charCodeAt(this.at);
    if (c !== 48 && c !== 49) return NaN;
    this.at++;
    return c - 48;
  }
}

/**
 * Bounds and vertex count of SVG path data. Like resvg, it reads up to the first error and keeps
 * what came before.
 */
export function pathExtent(d: string): PathExtent {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  let vertices = 0;
  let length = 0;
  let [x, y, startX, startY] = [0, 0, 0, 0];
  // The last control point, which smooth curves (S, T) reflect about the current point.
  let [ctrlX, ctrlY, ctrlOf] = [0, 0, ''];
  const s = new PathScanner(d);
  const args: number[] = [0, 0, 0, 0, 0, 0, 0];
  let command = '';
  // Points are added inline (no closure per segment: this loop is the hot spot of large SVGs).
  for (;;) {
    s.skipSeparators();
    const ch = d[s.at];
    if (ch !== undefined && 'MmZzLlHhVvCcSsQqTtAa'.includes(ch)) {
      command = ch;
      s.at++;
    } else if (ch === undefined || !command || command === 'z' || command === 'Z') {
      break;
    }
    const lower = command.toLowerCase();
    const relative = command !== command.toUpperCase();
    if (lower === 'z') {
      length += Math.hypot(startX - x, startY - y);
      [x, y] = [startX, startY];
      ctrlOf = '';
      vertices++;
      continue;
    }
    const n = ARGS[lower]!;
    for (let i = 0; i < n; i++) {
      const v = lower === 'a' && (i === 3 || i === 4) ? s.flag() : s.number();
      if (Number.isNaN(v)) return { box: x0 <= x1 ? { x0, y0, x1, y1 } : null, vertices, length };
      args[i] = v;
    }
    const ox = relative ? x : 0;
    const oy = relative ? y : 0;
    let pad = 0;
    const [fromX, fromY] = [x, y];
    let [px, py] = [x, y]; // an extra point to include (a control point), besides the end point
    let nextCtrlOf = '';
    switch (lower) {
      case 'm':
        [x, y] = [ox + args[0]!, oy + args[1]!];
        [startX, startY] = [x, y];
        [px, py] = [x, y];
        // Further pairs after a moveto are linetos.
        command = relative ? 'l' : 'L';
        break;
      case 'l':
        [x, y] = [ox + args[0]!, oy + args[1]!];
        break;
      case 'h':
        x = ox + args[0]!;
        break;
      case 'v':
        y = oy + args[0]!;
        break;
      case 't':
        [ctrlX, ctrlY] = ctrlOf === 'q' || ctrlOf === 't' ? [2 * x - ctrlX, 2 * y - ctrlY] : [x, y];
        [px, py, nextCtrlOf] = [ctrlX, ctrlY, 't'];
        [x, y] = [ox + args[0]!, oy + args[1]!];
        break;
      case 'c':
        [px, py] = [ox + args[0]!, oy + args[1]!];
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[2]!, oy + args[3]!, 'c'];
        [x, y] = [ox + args[4]!, oy + args[5]!];
        break;
      case 's':
        [px, py] = ctrlOf === 'c' || ctrlOf === 's' ? [2 * x - ctrlX, 2 * y - ctrlY] : [x, y];
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[0]!, oy + args[1]!, 's'];
        [x, y] = [ox + args[2]!, oy + args[3]!];
        break;
      case 'q':
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[0]!, oy + args[1]!, 'q'];
        [px, py] = [ctrlX, ctrlY];
        [x, y] = [ox + args[2]!, oy + args[3]!];
        break;
      case 'a': {
        const [x2, y2] = [ox + args[5]!, oy + args[6]!];
        // Radii too small for the chord are scaled up to fit it, so the arc stays within twice
        // the larger of the radii and half the chord from its start.
        pad = 2 * Math.max(Math.abs(args[0]!), Math.abs(args[1]!), Math.hypot(x2 - x, y2 - y) / 2);
        [x, y] = [x2, y2];
        break;
      }
    }
    if (px - pad < x0) x0 = px - pad;
    if (py - pad < y0) y0 = py - pad;
    if (px + pad > x1) x1 = px + pad;
    if (py + pad > y1) y1 = py + pad;
    if (lower === 'c' || lower === 's' || lower === 'q' || lower === 't') {
      if (ctrlX < x0) x0 = ctrlX;
      if (ctrlY < y0) y0 = ctrlY;
      if (ctrlX > x1) x1 = ctrlX;
      if (ctrlY > y1) y1 = ctrlY;
    }
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
    // A curve is no longer than its control polygon; an arc no longer than its full circle.
    if (lower === 'a') length += Math.PI * pad;
    else if (lower !== 'm') {
      const via = lower === 'c' || lower === 's' ? Math.hypot(px - fromX, py - fromY) + Math.hypot(ctrlX - px, ctrlY - py) + Math.hypot(x - ctrlX, y - ctrlY) : 0;
      const viaQ = lower === 'q' || lower === 't' ? Math.hypot(ctrlX - fromX, ctrlY - fromY) + Math.hypot(x - ctrlX, y - ctrlY) : 0;
      length += via || viaQ || Math.hypot(x - fromX, y - fromY);
    }
    ctrlOf = nextCtrlOf;
    vertices++;
  }
  return { box: x0 <= x1 ? { x0, y0, x1, y1 } : null, vertices, length };
}

/** Bounds of a `points` list (polyline, polygon) and its vertex count. */
export function pointsExtent(points: string): PathExtent {
  const n = parseNumberList(points);
  let box: Rect | null = null;
  let length = 0;
  for (let i = 0; i + 1 < n.length; i += 2) {
    box = union(box, { x0: n[i]!, y0: n[i + 1]!, x1: n[i]!, y1: n[i + 1]! });
    if (i >= 2) length += Math.hypot(n[i]! - n[i - 2]!, n[i + 1]! - n[i - 1]!);
  }
  // Counted as closed: a polygon's closing edge is no longer than the rest of it.
  return { box, vertices: Math.floor(n.length / 2), length: 2 * length };
}
