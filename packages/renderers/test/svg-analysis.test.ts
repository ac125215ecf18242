import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
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
  imageSvgInputSchema,
} from '@kiln/shared';
import { analyseSvg } from '../src/image/svg-analysis.js';
import { rasterSize } from '../src/image/embedded-image.js';
import { rasterizeSvg } from '../src/image/rasterize-svg.js';
import { imageRenderer } from '../src/image/image-renderer.js';
import { videoRenderer } from '../src/video/video-renderer.js';
import { chartRenderer } from '../src/chart/chart-renderer.js';
import { RenderError } from '../src/contract.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun, fixtureFile } = useRenderRuns();

const NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"';
const svg = (attrs: string, body = '') => `<svg ${NS} ${attrs}>${body}</svg>`;
const PATH = ['input', 'svg'];

/** Runs `fn`, expects a validation_failed RenderError, and returns its details. */
function refusal(fn: () => unknown): { message: string; details: Record<string, unknown>[] } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).code).toBe('validation_failed');
    return { message: (err as Error).message, details: (err as RenderError).options.details as Record<string, unknown>[] };
  }
  throw new Error('expected the SVG to be refused');
}

/** Expects exactly one cap violation with this limit and returns its `actual`. */
function capViolation(source: string, limit: number, width?: number): number {
  const { details } = refusal(() => analyseSvg(source, { path: PATH, width }));
  const hit = details.find((d) => d.limit === limit);
  expect(hit, JSON.stringify(details)).toMatchObject({ path: PATH, limit, actual: expect.any(Number), message: expect.any(String) });
  expect(hit!.actual as number).toBeGreaterThan(limit);
  return hit!.actual as number;
}

/** A PNG header (signature + IHDR) declaring any size: all the analysis reads. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16)))]);
}
const dataPng = (w: number, h: number) => `data:image/png;base64,${pngHeader(w, h).toString('base64')}`;

describe('svg analysis: size', () => {
  // Each case is drawn by resvg too: the prediction must be exactly what resvg allocates.
  it.each([
    ['width="200" height="100"', undefined],
    ['width="200" height="100"', 400],
    ['width="10.5" height="2.5"', undefined],
    ['width="3" height="7"', 10],
    ['viewBox="0 0 1 50"', 8],
    ['width="50%" viewBox="0 0 200 100"', undefined],
    ['width="10em" height="1in"', undefined],
    ['font-size="20" width="2em" height="3ex"', undefined],
    ['width="10mm" height="2pc"', undefined],
    ['width="12pt" height="1cm"', undefined],
    ['width="1e2" height="5cm" viewBox="0 0 10 10"', undefined],
    ['width="abc" height="50" viewBox="0 0 400 100"', undefined],
    ['', undefined],
    ['width="50%" height="20"', undefined],
  ] as const)('%s (width option %s) is sized as resvg sizes it', async (attrs, width) => {
    const source = svg(attrs);
    const { raster } = analyseSvg(source, { path: PATH, width });
    const drawn = await rasterizeSvg(source, { width });
    expect(raster).toEqual({ width: drawn.width, height: drawn.height });
  });

  it('sizes a document without width, height or viewBox to its content, stroke included, like resvg', async () => {
    for (const body of [
      '<rect width="300" height="200" stroke="red" stroke-width="10"/>',
      '<rect x="-50" width="300" height="200" transform="scale(2)"/>',
      '<g transform="translate(10 20)"><circle cx="40" cy="30" r="25"/></g>',
    ]) {
      const source = svg('width="50%"', body);
      const { raster } = analyseSvg(source, { path: PATH });
      const drawn = await rasterizeSvg(source, {});
      expect(raster).toEqual({ width: drawn.width, height: drawn.height });
    }
  });

  it('refuses a side over MAX_RASTER_SIDE and accepts one at it', () => {
    expect(capViolation(svg('width="100000" height="10"'), MAX_RASTER_SIDE)).toBe(100000);
    expect(analyseSvg(svg(`width="${MAX_RASTER_SIDE}" height="2000"`), { path: PATH }).raster).toEqual({ width: MAX_RASTER_SIDE, height: 2000 });
  });

  it('refuses more than MAX_RASTER_PIXELS and accepts exactly that many', () => {
    expect(capViolation(svg('width="8000" height="5001"'), MAX_RASTER_PIXELS)).toBe(40_008_000);
    expect(analyseSvg(svg('width="8000" height="5000"'), { path: PATH }).raster).toEqual({ width: 8000, height: 5000 });
  });

  it('refuses the 100000×100000 canvas that used to be accepted, with both size caps', () => {
    const { details } = refusal(() => analyseSvg(svg('width="100000" height="100000"'), { path: PATH }));
    expect(details).toEqual([
      expect.objectContaining({ path: PATH, limit: MAX_RASTER_SIDE, actual: 100000 }),
      expect.objectContaining({ path: PATH, limit: MAX_RASTER_PIXELS, actual: 10_000_000_000 }),
    ]);
  });

  it('applies the width option before the caps: the height follows the aspect ratio', () => {
    // A 1×1000 viewBox at width 8192 is 8192 × 8,192,000 pixels.
    expect(capViolation(svg('viewBox="0 0 1 1000"'), MAX_RASTER_SIDE, 8192)).toBe(8_192_000);
    expect(analyseSvg(svg('viewBox="0 0 4 1"'), { path: PATH, width: 8192 }).raster).toEqual({ width: 8192, height: 2048 });
  });

  it('refuses sizes resvg cannot draw', () => {
    expect(refusal(() => analyseSvg(svg('width="0" height="10"'), { path: PATH })).message).toMatch(/invalid size/);
    expect(refusal(() => analyseSvg(svg('width="-5" height="10"'), { path: PATH })).message).toMatch(/invalid size/);
    expect(refusal(() => analyseSvg(svg('width="10" height="0.4"'), { path: PATH })).message).toMatch(/empty raster/);
  });

  it('publishes the caps in the JSON Schema of the input', () => {
    expect(imageSvgInputSchema.shape.width.unwrap().maxValue).toBe(MAX_RASTER_SIDE);
    expect(imageSvgInputSchema.safeParse({ svg: svg(''), width: MAX_RASTER_SIDE + 1 }).success).toBe(false);
  });
});

describe('svg analysis: markup', () => {
  it('refuses malformed XML with the parser position', () => {
    const { details } = refusal(() => analyseSvg(`<svg ${NS}>\n  <rect width="1" height="1">\n</svg>`, { path: PATH }));
    expect(details).toEqual([{ path: PATH, message: expect.stringMatching(/close tag/), line: 3, column: expect.any(Number) }]);
    const dup = refusal(() => analyseSvg(`<svg ${NS}>\n<rect a="1" a="2"/></svg>`, { path: PATH }));
    expect(dup.details[0]).toMatchObject({ line: 2, message: expect.stringMatching(/duplicate attribute/) });
    expect(dup.message).toMatch(/line 2, column \d+/);
    expect(refusal(() => analyseSvg(`<svg ${NS}><rect fill="&nope;"/></svg>`, { path: PATH })).details[0]).toMatchObject({ line: 1 });
    expect(refusal(() => analyseSvg(`<svg ${NS}><x:rect/></svg>`, { path: PATH })).message).toMatch(/namespace prefix/);
  });

  it('refuses a root that is not <svg> in the SVG namespace', () => {
    expect(refusal(() => analyseSvg('<svg width="10" height="10"/>', { path: PATH })).details[0]).toMatchObject({ path: PATH });
    expect(refusal(() => analyseSvg(`<g ${NS}/>`, { path: PATH })).message).toMatch(/root element must be <svg>/);
  });

  it('refuses references outside the document and keeps fragments and data: images', () => {
    for (const body of [
      '<image href="file:///etc/passwd" width="10" height="10"/>',
      '<image xlink:href="/etc/hostname"/>',
      '<rect style="fill:url(http://x/y#z)"/>',
      '<style>@import "https://example.com/a.css";</style>',
      '<style>rect { fill: url(/etc/passwd) }</style>',
    ]) {
      expect(refusal(() => analyseSvg(svg('width="10" height="10"', body), { path: PATH })).message).toMatch(/external/);
    }
    expect(refusal(() => analyseSvg(`<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${svg('')}`, { path: PATH })).message).toMatch(/external/);
    expect(() =>
      analyseSvg(svg('width="10" height="10"', '<rect id="a"/><use href="#a"/><rect fill="url(#g)"/><image href="data:image/png;base64,AAAA"/>'), { path: PATH }),
    ).not.toThrow();
  });

  it('refuses nesting deeper than MAX_SVG_DEPTH and accepts exactly that deep', () => {
    const nested = (n: number) => svg('width="10" height="10"', '<g>'.repeat(n) + '<rect width="1" height="1"/>' + '</g>'.repeat(n));
    // The root counts as one level and the rect as another.
    expect(analyseSvg(nested(MAX_SVG_DEPTH - 2), { path: PATH }).depth).toBe(MAX_SVG_DEPTH);
    expect(capViolation(nested(MAX_SVG_DEPTH - 1), MAX_SVG_DEPTH)).toBe(MAX_SVG_DEPTH + 1);
    // Through <use>: a chain of uses nests each copy inside the previous one.
    let chain = '<defs><g id="u0"><rect width="1" height="1"/></g>';
    for (let i = 1; i <= 150; i++) chain += `<g id="u${i}"><use href="#u${i - 1}"/></g>`;
    expect(capViolation(svg('width="10" height="10"', `${chain}</defs><use href="#u150"/>`), MAX_SVG_DEPTH)).toBeGreaterThan(MAX_SVG_DEPTH);
  });
});

describe('svg analysis: <use> expansion', () => {
  /** Each level holds two uses of the one below: 2^levels copies of the bottom rect. */
  const bomb = (levels: number) => {
    let defs = '<g id="l0"><rect width="1" height="1"/></g>';
    for (let i = 1; i <= levels; i++) defs += `<g id="l${i}"><use href="#l${i - 1}"/><use href="#l${i - 1}"/></g>`;
    return svg('width="100" height="100"', `<defs>${defs}</defs><use href="#l${levels}"/>`);
  };

  it('refuses a use bomb that expands to 2^29 elements, without expanding it', () => {
    const actual = capViolation(bomb(29), MAX_SVG_ELEMENTS);
    expect(actual).toBeGreaterThan(2 ** 29);
  });

  it('counts expansion exactly and accepts just under the cap', () => {
    const uses = (n: number) => `<use href="#r"/>`.repeat(n);
    const doc = (copies: number) => svg('width="100" height="100"', `<defs><rect id="r" width="1" height="1"/></defs><g id="g">${uses(1000)}</g>${'<use href="#g"/>'.repeat(copies)}`);
    // root, defs, rect, g with 1000 × (use + rect), then each use of g adds itself and a copy of g.
    const a = analyseSvg(doc(98), { path: PATH });
    expect(a.elements).toBe(3 + 2001 + 98 * 2002);
    expect(a.elements).toBeLessThanOrEqual(MAX_SVG_ELEMENTS);
    expect(capViolation(doc(99), MAX_SVG_ELEMENTS)).toBe(3 + 2001 + 99 * 2002);
  });

  it('refuses <use> elements that refer to each other in a cycle', () => {
    const cyclic = svg('width="10" height="10"', '<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>');
    expect(refusal(() => analyseSvg(cyclic, { path: PATH })).message).toMatch(/cycle/);
    expect(refusal(() => analyseSvg(svg('width="10" height="10"', '<use id="s" href="#s"/>'), { path: PATH })).message).toMatch(/cycle/);
  });

  it('refuses many <use> lookups in a large document (resvg finds each target by a linear scan)', () => {
    const n = 20_000;
    let body = '';
    for (let i = 0; i < n; i++) body += `<rect id="r${i}" width="1" height="1"/>`;
    body += `<use href="#r${n - 1}"/>`.repeat(n);
    expect(capViolation(svg('width="100" height="100"', body), MAX_SVG_USE_LOOKUP_STEPS)).toBeGreaterThan(n * n);
  });

  it('refuses CSS whose selectors × elements is over the cap', () => {
    let rules = '';
    let rects = '';
    for (let i = 0; i < 10_000; i++) {
      rules += `.c${i}{fill:red}`;
      rects += `<rect class="c${i}" width="1" height="1"/>`;
    }
    expect(capViolation(svg('width="100" height="100"', `<style>${rules}</style>${rects}`), MAX_SVG_CSS_MATCHES)).toBe(10_000 * 10_001); // the rects and the root: <style> is not an element resvg keeps
  });
});

describe('svg analysis: filters, layers, patterns', () => {
  const blur = (w: number, h: number, deviation = 20) =>
    svg(`width="${w}" height="${h}"`, `<filter id="f"><feGaussianBlur stdDeviation="${deviation}"/></filter><rect width="${w}" height="${h}" filter="url(#f)"/>`);

  it('counts a blur over its default region (1.2× the box), weighted by the blur resvg uses', () => {
    // 3000 × 1.2 = 3600 px a side; a box blur above 2 px of deviation.
    expect(analyseSvg(blur(3000, 3000), { path: PATH }).filterWork).toBe(18 * 3600 * 3600);
    // The same region with a 1 px deviation goes through resvg's slower IIR blur.
    expect(capViolation(blur(3000, 3000, 1), MAX_SVG_FILTER_WORK)).toBe(45 * 3600 * 3600);
    // A blur over an 8000 px wide canvas (within the pixel cap) is over.
    expect(capViolation(blur(8000, 4500), MAX_SVG_FILTER_WORK)).toBe(18 * 9600 * 5400);
  });

  it('counts the filter region resvg really allocates, even far outside a small canvas', () => {
    const flood = svg(
      'width="100" height="100"',
      '<filter id="f" filterUnits="userSpaceOnUse" x="-10000" y="-10000" width="20000" height="20000"><feFlood flood-color="red"/></filter><rect width="100" height="100" filter="url(#f)"/>',
    );
    expect(capViolation(flood, MAX_SVG_FILTER_WORK)).toBe(6 * 20000 * 20000);
  });

  it('counts a filtered element each time <use> draws it, and CSS filters too', () => {
    const filtered = (copies: number, how: string) =>
      svg(
        'width="1000" height="1000"',
        `<style>.s { filter: url(#f) }</style><filter id="f"><feGaussianBlur stdDeviation="5"/></filter><defs><rect id="r" width="1000" height="1000" ${how}/></defs>${'<use href="#r"/>'.repeat(copies)}`,
      );
    const one = analyseSvg(filtered(1, 'filter="url(#f)"'), { path: PATH }).filterWork;
    expect(one).toBe(18 * 1200 * 1200);
    expect(analyseSvg(filtered(10, 'filter="url(#f)"'), { path: PATH }).filterWork).toBe(10 * one);
    expect(analyseSvg(filtered(10, 'class="s"'), { path: PATH }).filterWork).toBe(10 * one);
    expect(capViolation(filtered(20, 'class="s"'), MAX_SVG_FILTER_WORK)).toBe(20 * one);
  });

  it('weighs feTurbulence octaves, feMorphology radii and feConvolveMatrix kernels', () => {
    const one = (primitive: string) =>
      svg('width="1000" height="1000"', `<filter id="f" x="0" y="0" width="1" height="1">${primitive}</filter><rect width="1000" height="1000" filter="url(#f)"/>`);
    expect(analyseSvg(one('<feTurbulence baseFrequency="0.05" numOctaves="1"/>'), { path: PATH }).filterWork).toBe(19 * 1e6);
    expect(capViolation(one('<feTurbulence baseFrequency="0.05" numOctaves="1000"/>'), MAX_SVG_FILTER_WORK)).toBe(11_008 * 1e6);
    expect(analyseSvg(one('<feMorphology radius="5"/>'), { path: PATH }).filterWork).toBe((6 + Math.ceil(100 / 7)) * 1e6);
    expect(capViolation(one('<feMorphology radius="200"/>'), MAX_SVG_FILTER_WORK)).toBe((6 + Math.ceil((400 * 400) / 7)) * 1e6);
    expect(analyseSvg(one(`<feConvolveMatrix order="9" kernelMatrix="${Array(81).fill(1).join(' ')}"/>`), { path: PATH }).filterWork).toBe((6 + 73) * 1e6);
    expect(capViolation(one(`<feConvolveMatrix order="30" kernelMatrix="${Array(900).fill(1).join(' ')}"/>`), MAX_SVG_FILTER_WORK)).toBe((6 + 810) * 1e6);
  });

  it('refuses nested layers that resvg allocates up to 16× the canvas each', () => {
    const nested = (n: number, rect: string) => svg('width="1000" height="1000"', '<g opacity=".9">'.repeat(n) + rect + '</g>'.repeat(n));
    // 50 layers of 4000×4000 (resvg's limit: 4× the canvas each way).
    expect(capViolation(nested(50, '<rect x="-1e6" y="-1e6" width="2e6" height="2e6"/>'), MAX_SVG_LAYER_PIXELS)).toBe(50 * 16_000_000);
    // 50 canvas-sized layers are fine.
    expect(analyseSvg(nested(50, '<rect width="1000" height="1000"/>'), { path: PATH }).layerPixels).toBe(50 * 1004 * 1004);
  });

  it('refuses a pattern tile resvg would allocate at 20000×20000 for a 100×100 canvas', () => {
    const tile = (side: number) =>
      svg('width="100" height="100"', `<pattern id="p" patternUnits="userSpaceOnUse" width="${side}" height="${side}"><rect width="10" height="10"/></pattern><rect width="100" height="100" fill="url(#p)"/>`);
    expect(capViolation(tile(20000), MAX_SVG_LAYER_PIXELS)).toBe(400_000_000);
    expect(analyseSvg(tile(50), { path: PATH }).layerPixels).toBe(2500);
  });

  it('counts markers once per vertex', () => {
    const points = Array.from({ length: 1000 }, (_, i) => `${i % 100} ${(i * 7) % 100}`).join(' ');
    const doc = svg('width="100" height="100"', `<marker id="m"><circle cx="1" cy="1" r="1"/></marker><polyline marker-mid="url(#m)" points="${points}" stroke="black"/>`);
    // The root, the polyline, and a circle for each of the 998 middle vertices.
    expect(analyseSvg(doc, { path: PATH }).drawnElements).toBe(2 + 998);
  });
});

describe('svg analysis: text', () => {
  it('counts the characters of text drawn, each <use> copy included, against MAX_SVG_TEXT_CHARS', () => {
    const line = 'Lorem ipsum dolor sit amet'; // 22 visible characters
    const doc = (texts: number, copies: number) =>
      svg('width="1000" height="1000"', `<defs><g id="t">${`<text x="0" y="20">${line}<tspan dx="2">${line}</tspan></text>`.repeat(texts)}</g></defs>${'<use href="#t"/>'.repeat(copies)}`);
    expect(analyseSvg(doc(100, 4), { path: PATH }).textChars).toBe(100 * 44 * 4);
    expect(analyseSvg(doc(454, 1), { path: PATH }).textChars).toBe(19_976);
    expect(capViolation(doc(100, 5), MAX_SVG_TEXT_CHARS)).toBe(22_000);
  });
});

describe('svg analysis: dashed strokes', () => {
  it('counts the dashes of dashed strokes against MAX_SVG_DASHES', () => {
    // 20 lines 1000 long with a 0.0011 period: about 909,000 dashes each (resvg takes seconds per line).
    const lines = (n: number, dash: string) =>
      svg('width="1000" height="1000"', `<g stroke="red" stroke-dasharray="${dash}">${Array.from({ length: n }, (_, i) => `<path d="M0 ${i * 40} L1000 ${i * 40}"/>`).join('')}</g>`);
    expect(capViolation(lines(20, '0.0005 0.0006'), MAX_SVG_DASHES)).toBe(20 * Math.ceil(1000 / 0.0011));
    // A dashed grid: 25 lines of 100 dashes.
    expect(analyseSvg(lines(25, '4 6'), { path: PATH }).dashes).toBe(25 * 100);
    // An odd list repeats (5 3 1 5 3 1: three dashes per 18), and without a stroke nothing is dashed.
    expect(analyseSvg(lines(1, '5 3 1'), { path: PATH }).dashes).toBe(Math.ceil(1000 / 18) * 3);
    expect(analyseSvg(svg('width="10" height="10"', '<path d="M0 0 L1000 0" stroke-dasharray="0.001"/>'), { path: PATH }).dashes).toBe(0);
  });
});

describe('svg analysis: overdraw', () => {
  it('counts the pixels every fill, stroke and image paints against MAX_SVG_PAINT_PIXELS', () => {
    const rects = (copies: number, paint = 'fill="#f00" fill-opacity=".5"') =>
      svg('width="1000" height="1000"', `<defs><rect id="r" width="1000" height="1000" ${paint}/></defs>${'<use href="#r"/>'.repeat(copies)}`);
    expect(analyseSvg(rects(1000), { path: PATH }).paintPixels).toBe(1000 * 1_000_000);
    expect(capViolation(rects(2001), MAX_SVG_PAINT_PIXELS)).toBe(2001 * 1_000_000);
    // A stroke paints too, and a shape with no fill and no stroke paints nothing.
    expect(analyseSvg(rects(10, 'stroke="#00f"'), { path: PATH }).paintPixels).toBe(2 * 10 * 1_000_000); // the stroke's overhang is off the canvas
    expect(analyseSvg(rects(10, 'fill="none"'), { path: PATH }).paintPixels).toBe(0);
  });
});

describe('svg analysis: gradients', () => {
  it('counts pixels painted with a gradient times its stops against MAX_SVG_GRADIENT_WORK', () => {
    const stops = (n: number) => Array.from({ length: n }, (_, i) => `<stop offset="${i / n}" stop-color="${i % 2 ? '#f00' : '#00f'}"/>`).join('');
    const doc = (n: number) =>
      svg('width="4000" height="4000"', `<linearGradient id="base">${stops(n)}</linearGradient><linearGradient id="g" href="#base"/><rect width="4000" height="4000" fill="url(#g)"/>`);
    // Stops are found through href; the painted area is the rect on the canvas.
    expect(analyseSvg(doc(10), { path: PATH }).gradientWork).toBe(10 * 16_000_000);
    expect(capViolation(doc(5000), MAX_SVG_GRADIENT_WORK)).toBe(5000 * 16_000_000);
    // A shape far larger than the canvas only paints the canvas.
    const huge = svg('width="100" height="100"', `<linearGradient id="g">${stops(3)}</linearGradient><rect x="-1e6" y="-1e6" width="2e6" height="2e6" fill="url(#g)"/>`);
    expect(analyseSvg(huge, { path: PATH }).gradientWork).toBe(3 * 10_000);
  });
});

describe('svg analysis: embedded images', () => {
  it('reads the declared size of PNG, JPEG, GIF and WebP headers', async () => {
    const image = sharp({ create: { width: 37, height: 23, channels: 3, background: '#f00' } });
    for (const format of ['png', 'jpeg', 'gif', 'webp'] as const) {
      const bytes = await image.clone().toFormat(format).toBuffer();
      expect(rasterSize(bytes)).toEqual({ width: 37, height: 23, format });
    }
  });

  it('refuses a 100000×100000 PNG that compresses to bytes', () => {
    const doc = svg('width="100" height="100"', `<image href="${dataPng(100_000, 100_000)}" width="100" height="100"/>`);
    expect(capViolation(doc, MAX_RASTER_PIXELS)).toBe(10_000_000_000);
  });

  it('counts every drawn copy of an image against MAX_SVG_IMAGE_PIXELS', () => {
    const doc = (copies: number) =>
      svg('width="100" height="100"', `<defs><image id="i" href="${dataPng(6000, 6000)}" width="100" height="100"/></defs>${'<use href="#i"/>'.repeat(copies)}`);
    expect(analyseSvg(doc(2), { path: PATH }).imagePixels).toBe(72_000_000);
    expect(capViolation(doc(3), MAX_SVG_IMAGE_PIXELS)).toBe(108_000_000);
  });

  it('analyses embedded SVG images like the document itself', () => {
    const inner = (body: string) => `data:image/svg+xml;base64,${Buffer.from(svg('width="10" height="10"', body)).toString('base64')}`;
    let defs = '<g id="l0"><rect width="1" height="1"/></g>';
    for (let i = 1; i <= 20; i++) defs += `<g id="l${i}"><use href="#l${i - 1}"/><use href="#l${i - 1}"/></g>`;
    const bomb = svg('width="10" height="10"', `<image href="${inner(`<defs>${defs}</defs><use href="#l20"/>`)}" width="10" height="10"/>`);
    expect(capViolation(bomb, MAX_SVG_ELEMENTS)).toBeGreaterThan(2 ** 20);
    const outside = svg('width="10" height="10"', `<image href="${inner('<image href="/dev/zero"/>')}" width="10" height="10"/>`);
    expect(refusal(() => analyseSvg(outside, { path: PATH })).message).toMatch(/external/);
    const fine = svg('width="10" height="10"', `<image href="${inner('<circle cx="5" cy="5" r="4"/>')}" width="10" height="10"/>`);
    expect(analyseSvg(fine, { path: PATH }).drawnElements).toBe(4); // root, image, and the image's root and circle
  });
});

describe('svg analysis: real documents are accepted', () => {
  it('accepts the video example scenes, a chart and an illustration with defs, clips and a shadow', async () => {
    for (const scene of videoRenderer.inputSchema.parse(videoRenderer.example).scenes) {
      if (scene.visual.type === 'svg') analyseSvg(scene.visual.svg, { path: PATH, width: 1280 });
    }
    const run = await newRun();
    await chartRenderer.render(chartRenderer.inputSchema.parse({ ...(chartRenderer.example as object), format: 'svg' }), run.ctx);
    await run.settled();
    const { readFile } = await import('node:fs/promises');
    const chartSvg = await readFile(run.outputFor('primary')!.path, 'utf8');
    const chart = analyseSvg(chartSvg, { path: PATH, width: 2000 });
    expect(chart.raster.width).toBe(2000);

    const illustration = svg(
      'width="1200" height="630" viewBox="0 0 1200 630"',
      `<defs>
        <linearGradient id="bg" x2="1" y2="1"><stop offset="0" stop-color="#0f172a"/><stop offset="1" stop-color="#1e293b"/></linearGradient>
        <filter id="shadow" x="-20%" y="-20%" width="140%" height="140%"><feDropShadow dx="0" dy="8" stdDeviation="12" flood-opacity=".4"/></filter>
        <clipPath id="round"><rect width="400" height="300" rx="24"/></clipPath>
        <symbol id="star" viewBox="0 0 24 24"><path d="M12 2l3 7h7l-5.5 4.5 2 7.5-6.5-4.5-6.5 4.5 2-7.5L2 9h7z"/></symbol>
        <style>.label { font: bold 32px sans-serif; fill: #f8fafc } .card { filter: url(#shadow) }</style>
      </defs>
      <rect width="1200" height="630" fill="url(#bg)"/>
      <g class="card" transform="translate(80 120)"><g clip-path="url(#round)"><rect width="400" height="300" fill="#38bdf8"/></g></g>
      ${Array.from({ length: 12 }, (_, i) => `<use href="#star" x="${560 + (i % 6) * 90}" y="${160 + Math.floor(i / 6) * 90}" width="64" height="64" fill="#facc15"/>`).join('')}
      <text x="80" y="520" class="label">Quarterly results</text>`,
    );
    const a = analyseSvg(illustration, { path: PATH });
    expect(a.raster).toEqual({ width: 1200, height: 630 });
    const drawn = await rasterizeSvg(illustration, {});
    expect([drawn.width, drawn.height]).toEqual([1200, 630]);
  });
});

describe('svg caps in the renderers', () => {
  const huge = svg('width="100000" height="100000"', '<rect width="100000" height="100000"/>');

  it('image preflight refuses at input.svg, and render refuses too when preflight was skipped', async () => {
    const input = imageRenderer.inputSchema.parse({ svg: huge });
    const { details } = refusal(() => imageRenderer.preflight!(input));
    expect(details[0]).toMatchObject({ path: ['input', 'svg'], limit: MAX_RASTER_SIDE, actual: 100000 });
    await expect(renderWith(imageRenderer, { svg: huge }, newRun, [], { preflight: false })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('image preflight checks the width option', () => {
    const input = imageRenderer.inputSchema.parse({ svg: svg('viewBox="0 0 1 1000"'), width: 8192 });
    expect(refusal(() => imageRenderer.preflight!(input)).details[0]).toMatchObject({ limit: MAX_RASTER_SIDE, actual: 8_192_000 });
  });

  it('video preflight refuses an SVG scene at its own path, and accepts the example', async () => {
    const input = videoRenderer.inputSchema.parse({
      resolution: '720p',
      scenes: [{ visual: { type: 'svg', svg: svg('viewBox="0 0 1 100"') } }, { visual: { type: 'svg', svg: svg('width="100000" height="100000"') } }],
    });
    const err = await Promise.resolve()
      .then(() => videoRenderer.preflight!(input))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).code).toBe('validation_failed');
    // Scene 0: a 1×100 viewBox at the frame's width is 1280 × 128,000 pixels.
    expect((err as RenderError).options.details).toEqual([
      expect.objectContaining({ path: ['input', 'scenes', 0, 'visual', 'svg'], limit: MAX_RASTER_SIDE, actual: 128_000 }),
      expect.objectContaining({ path: ['input', 'scenes', 0, 'visual', 'svg'], limit: MAX_RASTER_PIXELS, actual: 1280 * 128_000 }),
    ]);
    await expect(videoRenderer.preflight!(videoRenderer.inputSchema.parse(videoRenderer.example))).resolves.toBeUndefined();
  });

  it('video render checks SVG assets, which only arrive at render time', async () => {
    const { id, path: file } = fixtureFile('.svg');
    await writeFile(file, svg('viewBox="0 0 1 100"', '<rect width="1" height="100"/>'));
    const input = { resolution: '720p', scenes: [{ visual: { type: 'asset', assetId: id }, durationMs: 500 }] };
    const err = await renderWith(videoRenderer, input, newRun, [{ id, path: file, contentType: 'image/svg+xml' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'validation_failed', options: { details: expect.arrayContaining([expect.objectContaining({ path: ['scenes', 0, 'visual', 'svg'], limit: MAX_RASTER_SIDE, actual: 128_000 })]) } });
  });
});
