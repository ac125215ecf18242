import { createHash } from 'node:crypto';

/**
 * The bytes of bench/large-asset.ts's generated "video": deterministic, so the benchmark can
 * check a download (or any range of it) without keeping a copy. Chunk i (1 MiB) is a fixed
 * pseudo-random block (a sha256 chain: incompressible, so no layer can shrink it) with i
 * written into its first 8 bytes; the file opens with an MP4 `ftyp` box. Not a playable video —
 * a stand-in with a video's size and content type.
 */
export const CHUNK = 1024 * 1024;

const block = (() => {
  const b = Buffer.alloc(CHUNK);
  let h = createHash('sha256').update('kiln large asset').digest();
  for (let off = 0; off < CHUNK; off += h.length) {
    h.copy(b, off);
    h = createHash('sha256').update(h).digest();
  }
  return b;
})();

/** `ftyp` box: size 32, brand isom, version 0x200, compatible isom iso2 avc1 mp41. */
const FTYP = Buffer.concat([Buffer.from([0, 0, 0, 32]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2avc1mp41')]);

/** Chunk `i` of the file (a fresh Buffer; the last one cut to `total`). */
export function chunkAt(i: number, total: number): Buffer {
  const len = Math.min(CHUNK, total - i * CHUNK);
  const c = Buffer.from(block.subarray(0, len));
  if (len >= 8) c.writeBigUInt64BE(BigInt(i), len >= 40 && i === 0 ? 32 : 0);
  if (i === 0) FTYP.copy(c, 0, 0, Math.min(FTYP.length, len));
  return c;
}

/** sha256 of bytes [start, end] (inclusive) of a file of `total` bytes. */
export function sha256OfRange(total: number, start = 0, end = total - 1): string {
  const h = createHash('sha256');
  for (let i = Math.floor(start / CHUNK); i * CHUNK <= end; i++) {
    const c = chunkAt(i, total);
    const from = Math.max(0, start - i * CHUNK);
    const to = Math.min(c.length, end - i * CHUNK + 1);
    h.update(c.subarray(from, to));
  }
  return h.digest('hex');
}
