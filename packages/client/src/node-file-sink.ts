import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';

/**
 * Node-only: streams into a temporary file beside `filePath` and renames it into place, so the
 * destination is either the whole download or untouched, never a half-written file.
 */
export async function writeStreamToFile(body: ReadableStream<Uint8Array>, filePath: string): Promise<void> {
  const temp = `${filePath}.${randomUUID().slice(0, 8)}.part`;
  try {
    await pipeline(Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>), createWriteStream(temp));
    await rename(temp, filePath);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}
