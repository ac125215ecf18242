import { crc32 } from 'node:zlib';
import { MAX_VIDEO_SCENES } from '@kiln/shared';

/**
 * Inputs that ask a renderer for far more work than they weigh — one or more per kind, each
 * aimed at a published cap (packages/shared/src/renderer-inputs/*.ts and the renderers' cap
 * modules) or at a check that must refuse it (external references, unrenderable text). Every one
 * must be refused when submitted: 400 `validation_failed`, `details` with a `path`, and for a cap
 * its `limit` and `actual`. None may be queued.
 */
export interface Bomb {
  kind: string;
  label: string;
  input: unknown;
  /** Refused by a numeric cap: the details must say `limit` and `actual`. */
  cap: boolean;
}

const NS = 'xmlns="http://www.w3.org/2000/svg"';
const svg = (attrs: string, body = '') => `<svg ${NS} ${attrs}>${body}</svg>`;

/** Each level holds two uses of the one below: 2^levels copies of the bottom rect. */
export function useBomb(levels: number): string {
  let defs = '<g id="l0"><rect width="1" height="1"/></g>';
  for (let i = 1; i <= levels; i++) defs += `<g id="l${i}"><use href="#l${i - 1}"/><use href="#l${i - 1}"/></g>`;
  return svg('width="100" height="100"', `<defs>${defs}</defs><use href="#l${levels}"/>`);
}

/** A PNG (signature, IHDR, a little IDAT, IEND) whose header claims `w`×`h` pixels. */
export function pngClaiming(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(16)), chunk('IEND', Buffer.alloc(0))]);
}

function svgBombs(): [string, string, boolean][] {
  const billionLaughs = (() => {
    let dtd = '<!ENTITY a0 "laughlaughlaughlaugh">';
    for (let i = 1; i <= 9; i++) dtd += `<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`;
    return `<?xml version="1.0"?><!DOCTYPE svg [${dtd}]>${svg('width="100" height="100"', '<text y="20">&a9;</text>')}`;
  })();
  let cssRules = '';
  let cssRects = '';
  for (let i = 0; i < 10_000; i++) {
    cssRules += `.c${i}{fill:red}`;
    cssRects += `<rect class="c${i}" width="1" height="1"/>`;
  }
  let lookupBody = '';
  // Small enough to parse well inside the validation budget on a busy machine, over the cap all the same.
  for (let i = 0; i < 11_000; i++) lookupBody += `<rect id="r${i}" width="1" height="1"/>`;
  lookupBody += '<use href="#r10999"/>'.repeat(10_000);
  const stops = Array.from({ length: 5000 }, (_, i) => `<stop offset="${i / 5000}" stop-color="#${(i % 256).toString(16).padStart(2, '0')}0000"/>`).join('');
  return [
    ['a 100000×100000 canvas', svg('width="100000" height="100000"'), true],
    ['a 100000×100000 viewBox without a size', svg('viewBox="0 0 100000 100000"'), true],
    ['<use> nesting that expands to 2^29 elements', useBomb(29), true],
    ['a blur over an 8000×4500 canvas', svg('width="8000" height="4500"', '<filter id="f"><feGaussianBlur stdDeviation="20"/></filter><rect width="8000" height="4500" filter="url(#f)"/>'), true],
    ['a flood filter region of 20000² on a 100² canvas', svg('width="100" height="100"', '<filter id="f" filterUnits="userSpaceOnUse" x="-10000" y="-10000" width="20000" height="20000"><feFlood flood-color="red"/></filter><rect width="100" height="100" filter="url(#f)"/>'), true],
    ['feTurbulence with 1000 octaves', svg('width="1000" height="1000"', '<filter id="f" x="0" y="0" width="1" height="1"><feTurbulence baseFrequency="0.05" numOctaves="1000"/></filter><rect width="1000" height="1000" filter="url(#f)"/>'), true],
    ['300 nested groups', svg('width="10" height="10"', '<g>'.repeat(300) + '<rect width="1" height="1"/>' + '</g>'.repeat(300)), true],
    ['30,000 characters of text', svg('width="100" height="100"', `<text y="20">${'W'.repeat(30_000)}</text>`), true],
    ['a 20000² pattern tile', svg('width="100" height="100"', '<pattern id="p" patternUnits="userSpaceOnUse" width="20000" height="20000"><rect width="10" height="10"/></pattern><rect width="100" height="100" fill="url(#p)"/>'), true],
    ['an embedded PNG claiming 100000²', svg('width="100" height="100"', `<image href="data:image/png;base64,${pngClaiming(100_000, 100_000).toString('base64')}" width="100" height="100"/>`), true],
    // tiny-skia gives up on one path past a million dashes, so the cost is in the copies.
    ['three copies of a million dashes', svg('width="1000" height="10"', '<defs><path id="p" d="M0 5 L 100000 5" stroke="black" stroke-dasharray="0.01"/></defs><use href="#p"/><use href="#p"/><use href="#p"/>'), true],
    ['10,000 CSS rules × 10,000 elements', svg('width="100" height="100"', `<style>${cssRules}</style>${cssRects}`), true],
    ['10,000 <use> lookups in an 11,000-element document', svg('width="100" height="100"', lookupBody), true],
    ['50 nested layers of 4000²', svg('width="1000" height="1000"', '<g opacity=".9">'.repeat(50) + '<rect x="-1e6" y="-1e6" width="2e6" height="2e6"/>' + '</g>'.repeat(50)), true],
    ['5,000 gradient stops over 4000²', svg('width="4000" height="4000"', `<linearGradient id="g">${stops}</linearGradient><rect width="4000" height="4000" fill="url(#g)"/>`), true],
    ['1,000 canvas-sized rectangles through <use>', svg('width="6000" height="6000"', `<defs><rect id="r" width="6000" height="6000" fill-opacity=".5"/></defs>${'<use href="#r"/>'.repeat(1000)}`), true],
    ['malformed XML (unclosed element)', `<svg ${NS}>\n  <rect width="1" height="1">\n</svg>`, false],
    ['malformed XML (not XML at all)', '{"svg": true}', false],
    ['a root that is not <svg>', '<html><body/></html>', false],
    ['a DOCTYPE with an external ENTITY', `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${svg('width="10" height="10"', '<text>&x;</text>')}`, false],
    ['a billion laughs (nested internal entities)', billionLaughs, false],
    ['an <image> at an http URL (loopback)', svg('width="10" height="10"', '<image href="http://127.0.0.1:9/x.png" width="10" height="10"/>'), false],
    ['an <image> at file:///etc/passwd', svg('width="10" height="10"', '<image href="file:///etc/passwd" width="10" height="10"/>'), false],
    ['CSS @import of a URL', svg('width="10" height="10"', '<style>@import "http://127.0.0.1:9/a.css";</style><rect width="1" height="1"/>'), false],
    ['<use> elements in a cycle', svg('width="10" height="10"', '<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'), false],
  ];
}

const rows = (n: number, f: (i: number) => object = (i) => ({ x: i, y: i % 7 })) => Array.from({ length: n }, (_, i) => f(i));
const point = { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
const small = { values: rows(10) };

function chartBombs(): [string, unknown, boolean][] {
  const fields = Array.from({ length: 2000 }, (_, i) => `f${i}`);
  return [
    ['a sequence to 1e9', { spec: { data: { sequence: { start: 0, stop: 1e9 } }, ...point } }, true],
    ['a graticule every 0.0001°', { spec: { data: { graticule: { step: [1e-4, 1e-4] } }, mark: 'geoshape' } }, true],
    ['a 1e7 × 1e7 view', { spec: { width: 1e7, height: 1e7, data: small, ...point } }, true],
    ['a repeat of 2,000 fields', { spec: { data: { values: [] }, repeat: fields, spec: { mark: 'bar', encoding: { x: { field: { repeat: 'repeat' }, type: 'quantitative' }, y: { aggregate: 'count' } } } } }, true],
    ['a repeat of 400 rows × columns', { spec: { data: { values: [] }, repeat: { row: fields.slice(0, 20), column: fields.slice(0, 20) }, spec: { mark: 'point' } } }, true],
    ['a facet over 5,000 distinct values', { spec: { data: { values: rows(5000, (i) => ({ g: i, x: i, y: 1 })) }, facet: { field: 'g', type: 'nominal' }, columns: 50, spec: { width: 10, height: 10, ...point } } }, true],
    ['a row encoding over 2,000 values', { spec: { data: { values: rows(2000, (i) => ({ g: i, x: i, y: 1 })) }, mark: 'point', encoding: { row: { field: 'g' }, x: { field: 'x', type: 'quantitative' } } } }, true],
    ['100,001 inline rows', { spec: { data: { values: rows(100_001, () => ({ x: 1 })) }, mark: 'point' } }, true],
    ['three layers over 40,000 rows', { spec: { data: { values: rows(40_000, () => ({ x: 1 })) }, layer: [{ mark: 'point' }, { mark: 'line' }, { mark: 'tick' }] } }, true],
    ['tickCount 1e9', { spec: { data: small, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', axis: { tickCount: 1e9 } } } } }, true],
    ['maxbins 1e9', { spec: { data: small, mark: 'bar', encoding: { x: { field: 'x', bin: { maxbins: 1e9 } }, y: { aggregate: 'count' } } } }, true],
    ['a bin step of 1e-6', { spec: { data: { values: rows(100, (i) => ({ x: i * 10 })) }, mark: 'bar', encoding: { x: { field: 'x', bin: { step: 1e-6 } }, y: { aggregate: 'count' } } } }, true],
    ['sequence(0, 1e9) in an expression', { spec: { data: small, transform: [{ calculate: 'length(sequence(0, 1e9))', as: 'n' }], mark: 'point' } }, true],
    ['a number format padded to 5,000', { spec: { data: small, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', axis: { format: '0>5000' } } } } }, true],
    ['loess over 20,000 rows', { spec: { data: { values: rows(20_000) }, transform: [{ loess: 'y', on: 'x', bandwidth: 0.3 }], ...point } }, true],
    ['a projection scale of 1e9', { spec: { data: { graticule: true }, mark: 'geoshape', projection: { type: 'mercator', scale: 1e9 } } }, true],
    ['a projection precision of 1e-9', { spec: { data: { graticule: true }, mark: 'geoshape', projection: { type: 'mercator', precision: 1e-9 } } }, true],
    ['two 9,000-wide views side by side', { spec: { data: small, hconcat: [{ width: 9000, ...point }, { width: 9000, ...point }] } }, true],
    ['a 5000×100 PNG at scale 4', { spec: { width: 5000, height: 100, data: small, ...point }, format: 'png', scale: 4 }, true],
    ['scale 1000', { spec: { data: small, ...point }, scale: 1000 }, true],
    ['a sequence whose stop is a signal', { spec: { data: { sequence: { start: 0, stop: { signal: 'n' } } }, ...point } }, false],
    ['data from a URL (loopback)', { spec: { data: { url: 'http://127.0.0.1:9/data.csv' }, ...point } }, false],
    ['an image mark with a URL (loopback)', { spec: { data: { values: [{ u: 'http://127.0.0.1:9/x.png' }] }, mark: 'image', encoding: { url: { field: 'u', type: 'nominal' } } } }, false],
  ];
}

function documentBombs(): [string, unknown, boolean][] {
  const table = (cols: number, bodyRows: number) =>
    ['|a'.repeat(cols) + '|', '|-'.repeat(cols) + '|', ...Array.from({ length: bodyRows }, () => '|b'.repeat(cols) + '|')].join('\n');
  let nestedList = '';
  for (let i = 0; i < 40; i++) nestedList += `${'  '.repeat(i)}- level ${i}\n`;
  return [
    ['`*a` × 110,000 (past the length cap)', { markdown: '*a'.repeat(110_000) }, true],
    ['`*a` × 40,000 in one paragraph', { markdown: '*a'.repeat(40_000) }, true],
    ['`>` × 5,000', { markdown: '>'.repeat(5000) + ' deep' }, true],
    ['a list nested 40 levels', { markdown: nestedList }, true],
    ['a 100,000-column table (past the length cap)', { markdown: table(100_000, 0) }, true],
    ['a 10,000-column table', { markdown: table(10_000, 0) }, true],
    ['20,050 table cells', { markdown: table(50, 400) }, true],
    ['100 `[` in one word', { markdown: 'x' + '['.repeat(100) + 'y' }, true],
    ['100 `http` in one word', { markdown: 'http'.repeat(100) }, true],
    ['margins of 1e9 mm', { markdown: '# Hi', margins: { top: 1e9, right: 1e9, bottom: 1e9, left: 1e9 } }, true],
    ['a 501-character title', { markdown: '# Hi', title: 't'.repeat(501) }, true],
    ['page numbers without a bottom margin for them', { markdown: '# Hi', margins: { top: 20, right: 18, bottom: 2, left: 18 }, pageNumbers: true }, false],
    ['an image that is not an asset id', { markdown: '![x](asset:../../etc/passwd)' }, false],
  ];
}

function speechBombs(): [string, unknown, boolean][] {
  return [
    ['20,001 characters', { text: 'a'.repeat(20_001) }, true],
    ['1,000,000 characters', { text: 'word '.repeat(200_000) }, true],
    ['a rate of 1e9 words a minute', { text: 'hi', rate: 1e9 }, true],
    ['a voice that is a path', { text: 'hi', voice: '../../../etc/passwd' }, false],
    ['a voice that is an option', { text: 'hi', voice: '-w /tmp/out.wav' }, false],
    ['a voice with a shell metacharacter', { text: 'hi', voice: 'en-us;id' }, false],
    ['a 1,000-character voice', { text: 'hi', voice: 'e'.repeat(1000) }, false],
    ['a voice in another script', { text: 'hi', voice: 'англ' }, false],
    ['a variant that is an option', { text: 'hi', variant: '-q' }, false],
    ['text that is only whitespace', { text: ' \n\t '.repeat(100) }, false],
    ['a negative pitch', { text: 'hi', pitch: -1 }, false],
  ];
}

function videoBombs(): [string, unknown, boolean][] {
  const card = { type: 'card', card: { title: 'Scene' } };
  const scenes = (n: number, durationMs = 1000, visual: unknown = card) => Array.from({ length: n }, () => ({ visual, durationMs }));
  return [
    ['3840×3840 at 60 fps for 10 minutes', { resolution: { width: 3840, height: 3840 }, fps: 60, scenes: scenes(5, 120_000) }, true],
    [`${MAX_VIDEO_SCENES + 1} scenes`, { scenes: scenes(MAX_VIDEO_SCENES + 1, 100) }, true],
    ['12 minutes of scenes', { resolution: { width: 320, height: 240 }, fps: 1, scenes: scenes(6, 120_000) }, true],
    ['a scene SVG that expands to 2^29 elements', { scenes: [{ visual: { type: 'svg', svg: useBomb(29) } }] }, true],
    // (A scene's SVG is drawn at the frame's width, so a huge canvas alone is no bomb there.)
    ['a scene SVG nested 300 deep', { scenes: [{ visual: { type: 'svg', svg: svg('width="10" height="10"', '<g>'.repeat(300) + '<rect width="1" height="1"/>' + '</g>'.repeat(300)) } }] }, true],
    ['a scene card 100000 wide', { scenes: [{ visual: { type: 'card', card: { title: 'x', size: { width: 100_000, height: 100_000 } } } }] }, true],
    ['a scene card with unrenderable glyphs', { scenes: [{ visual: { type: 'card', card: { title: '\u{1F600}\u{1F4A3}\uE000' } } }] }, false],
    ['a scene chart with a sequence to 1e9', { scenes: [{ visual: { type: 'chart', chart: { spec: { data: { sequence: { start: 0, stop: 1e9 } }, mark: 'point' } } } }] }, true],
    ['a scene chart 1e7 wide', { scenes: [{ visual: { type: 'chart', chart: { spec: { width: 1e7, height: 10, data: small, ...point } } } }] }, true],
    ['a narration of 20,001 characters', { scenes: scenes(1), soundtrack: { type: 'narration', text: 'a'.repeat(20_001) } }, true],
    ['a negative duration', { scenes: [{ visual: card, durationMs: -1000 }] }, false],
    ['a zero duration', { scenes: [{ visual: card, durationMs: 0 }] }, false],
    ['a scene shorter than one frame', { fps: 1, scenes: [{ visual: card, durationMs: 100 }] }, false],
    ['a transition longer than the next scene', { scenes: [{ visual: card, durationMs: 5000, transition: 'fade', transitionMs: 5000 }, { visual: card, durationMs: 100 }] }, false],
    ['1000 fps', { fps: 1000, scenes: scenes(1) }, true],
    ['an odd width', { resolution: { width: 1921, height: 1080 }, scenes: scenes(1) }, false],
    ['a 100000-pixel-wide frame', { resolution: { width: 100_000, height: 1080 }, scenes: scenes(1) }, true],
  ];
}

function cardBombs(): [string, unknown, boolean][] {
  return [
    ['a title of emoji (no glyphs in the shipped fonts)', { mode: 'card', title: '\u{1F600}\u{1F4A3}\u{1F525}' }, false],
    ['a title in a private-use area', { mode: 'card', title: '\uE000\uE001\uF8FF' }, false],
    ['a title in CJK (no glyphs in the shipped fonts)', { mode: 'card', title: '漢字かな' }, false],
    ['a subtitle of unassigned code points', { mode: 'card', title: 'ok', subtitle: '\u0378\u0379\u{E01F0}' }, false],
    ['a 100000×100000 card', { mode: 'card', title: 'x', size: { width: 100_000, height: 100_000 } }, true],
    ['text that cannot fit a 64×64 card', { mode: 'card', title: 'T'.repeat(200), body: 'B'.repeat(2000), size: { width: 64, height: 64 } }, false],
    ['a background overlay of 1e9', { mode: 'card', title: 'x', backgroundOverlay: 1e9 }, true],
    ['CSS smuggled in a theme colour', { mode: 'card', title: 'x', theme: { background: 'red;background:url(http://127.0.0.1:9/x)' } }, false],
    ['an SVG drawn 16385 wide', { mode: 'svg', svg: svg('width="10" height="10"'), width: 16_385 }, true],
    ['an SVG scaled by the width option to 16384²', { mode: 'svg', svg: svg('width="1000" height="1000"', '<rect width="1000" height="1000"/>'), width: 16_384 }, true],
    ['2,000,001 characters of SVG', { mode: 'svg', svg: svg('width="10" height="10"', `<!--${'x'.repeat(2_000_001)}-->`) }, true],
  ];
}

export function bombs(): Bomb[] {
  return [
    ...svgBombs().map(([label, source, cap]) => ({ kind: 'image', label: `svg: ${label}`, input: { mode: 'svg', svg: source }, cap })),
    ...cardBombs().map(([label, input, cap]) => ({ kind: 'image', label: `image: ${label}`, input, cap })),
    ...chartBombs().map(([label, input, cap]) => ({ kind: 'chart', label: `chart: ${label}`, input, cap })),
    ...documentBombs().map(([label, input, cap]) => ({ kind: 'document', label: `document: ${label}`, input, cap })),
    ...speechBombs().map(([label, input, cap]) => ({ kind: 'speech', label: `speech: ${label}`, input, cap })),
    ...videoBombs().map(([label, input, cap]) => ({ kind: 'video', label: `video: ${label}`, input, cap })),
  ];
}
