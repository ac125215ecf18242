import { readFile } from 'node:fs/promises';

/**
 * Which characters a TrueType font covers and how wide they are, read straight from its `cmap`,
 * `hmtx`, `hhea` and `head` tables. Kiln needs exactly these two facts about its shipped fonts —
 * to size chart labels the way they will be drawn, and to refuse text the font cannot draw — and a
 * 100-line reader is smaller than a font library.
 */
export interface FontMetrics {
  /** True when the font has a glyph for the code point. */
  covers(codePoint: number): boolean;
  /** Advance width of `text` at `fontSize` px (no kerning), unknown characters at an average width. */
  textWidth(text: string, fontSize: number): number;
}

export async function loadFontMetrics(file: string): Promise<FontMetrics> {
  return parseFontMetrics(await readFile(file));
}

export function parseFontMetrics(font: Buffer): FontMetrics {
  const tables = readTableDirectory(font);
  const table = (tag: string) => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`font has no ${tag} table`);
    return offset;
  };
  const unitsPerEm = font.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = font.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (glyph: number) => font.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphs = readCharacterMap(font, table('cmap'));

  const advances = new Map<number, number>();
  let sum = 0;
  for (const [codePoint, glyph] of glyphs) {
    const advance = advanceOfGlyph(glyph) / unitsPerEm;
    advances.set(codePoint, advance);
    if (codePoint >= 0x61 && codePoint <= 0x7a) sum += advance;
  }
  // Lower-case Latin average: a fair stand-in for characters the font lacks.
  const fallback = sum > 0 ? sum / 26 : 0.6;

  return {
    covers: (codePoint) => glyphs.has(codePoint),
    textWidth(text, fontSize) {
      let em = 0;
      for (const ch of text) em += advances.get(ch.codePointAt(0)!) ?? fallback;
      return em * fontSize;
    },
  };
}

function readTableDirectory(font: Buffer): Map<string, number> {
  const numTables = font.readUInt16BE(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const record = 12 + 16 * i;
    tables.set(font.toString('latin1', record, record + 4), font.readUInt32BE(record + 8));
  }
  return tables;
}

/** Code point → glyph id, from the best Unicode subtable: format 12 (full range) or format 4 (BMP). */
function readCharacterMap(font: Buffer, cmap: number): Map<number, number> {
  const numTables = font.readUInt16BE(cmap + 2);
  let format4: number | undefined;
  let format12: number | undefined;
  for (let i = 0; i < numTables; i++) {
    const record = cmap + 4 + 8 * i;
    const platform = font.readUInt16BE(record);
    const encoding = font.readUInt16BE(record + 2);
    const subtable = cmap + font.readUInt32BE(record + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = font.readUInt16BE(subtable);
    if (format === 12) format12 ??= subtable;
    if (format === 4) format4 ??= subtable;
  }
  const map = new Map<number, number>();
  if (format12 !== undefined) {
    const groups = font.readUInt32BE(format12 + 12);
    for (let g = 0; g < groups; g++) {
      const at = format12 + 16 + 12 * g;
      const start = font.readUInt32BE(at);
      const end = font.readUInt32BE(at + 4);
      const glyph = font.readUInt32BE(at + 8);
      for (let c = start; c <= end; c++) map.set(c, glyph + (c - start));
    }
  } else if (format4 !== undefined) {
    const segCount = font.readUInt16BE(format4 + 6) / 2;
    const endCodes = format4 + 14;
    const startCodes = endCodes + 2 * segCount + 2;
    const idDeltas = startCodes + 2 * segCount;
    const idRangeOffsets = idDeltas + 2 * segCount;
    for (let s = 0; s < segCount; s++) {
      const start = font.readUInt16BE(startCodes + 2 * s);
      const end = font.readUInt16BE(endCodes + 2 * s);
      const delta = font.readInt16BE(idDeltas + 2 * s);
      const rangeOffsetAt = idRangeOffsets + 2 * s;
      const rangeOffset = font.readUInt16BE(rangeOffsetAt);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (rangeOffset === 0) glyph = (c + delta) & 0xffff;
        else {
          glyph = font.readUInt16BE(rangeOffsetAt + rangeOffset + 2 * (c - start));
          if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
        }
        if (glyph !== 0) map.set(c, glyph);
      }
    }
  } else {
    throw new Error('font has no Unicode character map');
  }
  return map;
}
