/**
 * `data:` URIs inside SVG: their media type and bytes, and for raster images the pixel size their
 * header declares. A 100000×100000 PNG compresses to a few kilobytes, and resvg decodes it in full
 * before drawing, so the declared size, not the byte count, is what costs memory.
 */

export interface DataUri {
  /** Lower-cased, without parameters: `image/png`. */
  mediaType: string;
  bytes: Buffer;
}

/** Decodes a `data:` URI as resvg's data-url crate does (base64, or percent-encoded text). */
export function parseDataUri(href: string): DataUri | undefined {
  const m = /^\s*data:([^,]*),/is.exec(href);
  if (!m) return undefined;
  const params = m[1]!.split(';').map((p) => p.trim());
  const mediaType = (params[0] || 'text/plain').toLowerCase();
  const payload = href.slice(m[0].length);
  const base64 = params.slice(1).some((p) => p.toLowerCase() === 'base64');
  const bytes = base64 ? Buffer.from(payload.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'base64') : percentDecode(payload);
  return { mediaType, bytes };
}

function percentDecode(text: string): Buffer {
  const out: number[] = [];
  const utf8 = Buffer.from(text, 'utf8');
  for (let i = 0; i < utf8.length; i++) {
    const b = utf8[i]!;
    if (b === 0x25 && i + 2 < utf8.length) {
      const hex = String.fromCharCode(utf8[i + 1]!, utf8[i + 2]!);
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out.push(b);
  }
  return Buffer.from(out);
}

/**
 * The pixel size a PNG, JPEG, GIF or WebP header declares, or undefined when the bytes are none of
 * these (resvg then draws nothing). Only headers are read; nothing is decoded.
 */
export function rasterSize(bytes: Buffer): { width: number; height: number; format: string } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('latin1', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), format: 'png' };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  if (bytes.length >= 10 && /^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6))) return gifSize(bytes);
  if (bytes.length >= 30 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return webpSize(bytes);
  return undefined;
}

function jpegSize(b: Buffer): { width: number; height: number; format: string } | undefined {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    // Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.readUInt16BE(at + 5), width: b.readUInt16BE(at + 7), format: 'jpeg' };
    }
    at += 2 + b.readUInt16BE(at + 2);
  }
  return undefined;
}

/** The larger of the logical screen and the first frame: resvg decodes the first frame. */
function gifSize(b: Buffer): { width: number; height: number; format: string } {
  let width = b.readUInt16LE(6);
  let height = b.readUInt16LE(8);
  let at = 13;
  if (b[10]! & 0x80) at += 3 * 2 ** ((b[10]! & 7) + 1);
  while (at < b.length) {
    const block = b[at]!;
    if (block === 0x2c && at + 9 < b.length) {
      width = Math.max(width, b.readUInt16LE(at + 5));
      height = Math.max(height, b.readUInt16LE(at + 7));
      break;
    }
    if (block !== 0x21) break;
    at += 2; // extension introducer and label, then sub-blocks
    while (at < b.length && b[at]! > 0) at += b[at]! + 1;
    at++;
  }
  return { width, height, format: 'gif' };
}

function webpSize(b: Buffer): { width: number; height: number; format: string } | undefined {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3), format: 'webp' };
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff), format: 'webp' };
  }
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff, format: 'webp' };
  return undefined;
}
