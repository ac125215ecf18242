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
  const xs = [m[0] * r.x0, m[0] * r.x1];
  const ys = [m[1] * r.x0, m[1] * r.x1];
  const xs2 = [m[2] * r.y0, m[2] * r.y1];
  const ys2 = [m[3] * r.y0, m[3] * r.y1];
  return {
    x0: Math.min(...xs) + Math.min(...xs2) + m[4],
    x1: Math.max(...xs) + Math.max(...xs2) + m[4],
    y0: Math.min(...ys) + Math.min(...ys2) + m[5],
    y1: Math.max(...ys) + Math.max(...ys2) + m[5],
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
}

const PATH_COMMAND = /[\s,]*([MmZzLlHhVvCcSsQqTtAa])/y;
const ARGS: Record<string, number> = { m: 2, l: 2, h: 1, v: 1, c: 6, s: 4, q: 4, t: 2, a: 7, z: 0 };

/**
 * Bounds and vertex count of SVG path data. Like resvg, it reads up to the first error and keeps
 * what came before.
 */
export function pathExtent(d: string): PathExtent {
  let box: Rect | null = null;
  let vertices = 0;
  let [x, y, startX, startY] = [0, 0, 0, 0];
  // The last control point, which smooth curves (S, T) reflect about the current point.
  let [ctrlX, ctrlY, ctrlOf] = [0, 0, ''];
  const add = (px: number, py: number, pad = 0) => {
    box = union(box, { x0: px - pad, y0: py - pad, x1: px + pad, y1: py + pad });
  };
  let at = 0;
  let command = '';
  for (;;) {
    PATH_COMMAND.lastIndex = at;
    const c = PATH_COMMAND.exec(d);
    if (c) {
      command = c[1]!;
      at = PATH_COMMAND.lastIndex;
    } else if (!command || command === 'z' || command === 'Z') {
      break;
    }
    const lower = command.toLowerCase();
    const relative = command !== command.toUpperCase();
    if (lower === 'z') {
      [x, y] = [startX, startY];
      ctrlOf = '';
      vertices++;
      if (c) continue;
      break;
    }
    const args: number[] = [];
    for (let i = 0; i < ARGS[lower]!; i++) {
      SEPARATORS.lastIndex = at;
      SEPARATORS.exec(d);
      at = SEPARATORS.lastIndex;
      if (lower === 'a' && (i === 3 || i === 4)) {
        // Arc flags are single characters and may be written without separators ("a1 1 0 01 5 5").
        const flag = d[at];
        if (flag !== '0' && flag !== '1') return { box, vertices };
        args.push(Number(flag));
        at++;
        continue;
      }
      NUMBER.lastIndex = at;
      const m = NUMBER.exec(d);
      if (!m) return { box, vertices };
      args.push(Number(m[0]));
      at = NUMBER.lastIndex;
    }
    const ox = relative ? x : 0;
    const oy = relative ? y : 0;
    const reflected = (kinds: string): [number, number] => (kinds.includes(ctrlOf) ? [2 * x - ctrlX, 2 * y - ctrlY] : [x, y]);
    let nextCtrlOf = '';
    switch (lower) {
      case 'm':
        [x, y] = [ox + args[0]!, oy + args[1]!];
        [startX, startY] = [x, y];
        add(x, y);
        // Further pairs after a moveto are linetos.
        command = relative ? 'l' : 'L';
        break;
      case 'l':
        [x, y] = [ox + args[0]!, oy + args[1]!];
        add(x, y);
        break;
      case 't': {
        [ctrlX, ctrlY] = reflected('qt');
        add(ctrlX, ctrlY);
        nextCtrlOf = 't';
        [x, y] = [ox + args[0]!, oy + args[1]!];
        add(x, y);
        break;
      }
      case 'h':
        x = ox + args[0]!;
        add(x, y);
        break;
      case 'v':
        y = (relative ? y : 0) + args[0]!;
        add(x, y);
        break;
      case 'c':
        add(ox + args[0]!, oy + args[1]!);
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[2]!, oy + args[3]!, 'c'];
        add(ctrlX, ctrlY);
        [x, y] = [ox + args[4]!, oy + args[5]!];
        add(x, y);
        break;
      case 's':
        add(...reflected('cs'));
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[0]!, oy + args[1]!, 's'];
        add(ctrlX, ctrlY);
        [x, y] = [ox + args[2]!, oy + args[3]!];
        add(x, y);
        break;
      case 'q':
        [ctrlX, ctrlY, nextCtrlOf] = [ox + args[0]!, oy + args[1]!, 'q'];
        add(ctrlX, ctrlY);
        [x, y] = [ox + args[2]!, oy + args[3]!];
        add(x, y);
        break;
      case 'a': {
        const [x2, y2] = [ox + args[5]!, oy + args[6]!];
        // Radii too small for the chord are scaled up to fit it, so the arc stays within twice
        // the larger of the radii and half the chord from its start.
        const r = Math.max(Math.abs(args[0]!), Math.abs(args[1]!), Math.hypot(x2 - x, y2 - y) / 2);
        add(x, y, 2 * r);
        [x, y] = [x2, y2];
        add(x, y);
        break;
      }
    }
    ctrlOf = nextCtrlOf;
    vertices++;
  }
  return { box, vertices };
}

/** Bounds of a `points` list (polyline, polygon) and its vertex count. */
export function pointsExtent(points: string): PathExtent {
  const n = parseNumberList(points);
  let box: Rect | null = null;
  for (let i = 0; i + 1 < n.length; i += 2) box = union(box, { x0: n[i]!, y0: n[i + 1]!, x1: n[i]!, y1: n[i + 1]! });
  return { box, vertices: Math.floor(n.length / 2) };
}
