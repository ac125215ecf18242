import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { KilnError } from '../../errors.js';
import type { PutResult } from './storage-provider.js';

export interface ByteMeter {
  /** Pass bytes through this; it fails with `asset_too_large` the moment the count passes the limit. */
  stream: Transform;
  /** Size and sha256 of everything that passed; valid once the stream has ended. */
  result(): PutResult;
}

/**
 * Counts and hashes bytes on their way to storage, so a provider knows the size and sha256 of
 * what it wrote without reading it back, and stops an oversized output mid-stream instead of
 * after it was stored.
 */
export function createByteMeter(maxBytes: number): ByteMeter {
  const hash = createHash('sha256');
  let byteSize = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      byteSize += chunk.length;
      if (byteSize > maxBytes) {
        done(KilnError.of('asset_too_large', `The output passed the limit of ${maxBytes} bytes.`, { maxBytes }));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let digest: string | null = null;
  return {
    stream,
    result: () => ({ byteSize, sha256: (digest ??= hash.digest('hex')) }),
  };
}
