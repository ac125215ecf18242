/**
 * Storage upload throughput (not a test): streams one object of N MiB, in 64 KiB chunks, through
 * each provider's `put` (counting and hashing included) and prints MiB/s:
 *   local disk (temp file, fsync, rename) vs S3 (multipart upload to s3rver on loopback, in its
 *   own process; s3rver writes each part to disk, then concatenates them on completion).
 *
 *   npx tsx bench/storage-throughput.ts [mib=100]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createLocalDiskProvider } from '../server/src/services/storage/local-disk-provider.js';
import { createS3Provider } from '../server/src/services/storage/s3-provider.js';
import type { StorageProvider } from '../server/src/services/storage/storage-provider.js';
import { startS3TestServer } from '../server/test/support/s3-test-server.js';

const MIB = 1024 * 1024;
const SIZE = Number(process.argv[2] ?? 100) * MIB;
const CHUNK = 64 * 1024;
const block = randomBytes(CHUNK);

function body(): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < SIZE; sent += CHUNK) yield block.subarray(0, Math.min(CHUNK, SIZE - sent));
    })(),
  );
}

async function measure(name: string, provider: StorageProvider) {
  const started = performance.now();
  const result = await provider.put('bench/object.bin', body(), { contentType: 'application/octet-stream', maxBytes: SIZE });
  const seconds = (performance.now() - started) / 1000;
  if (result.byteSize !== SIZE) throw new Error(`${name}: stored ${result.byteSize} bytes`);
  console.log(`${name.padEnd(28)} ${(SIZE / MIB).toFixed(0)} MiB in ${seconds.toFixed(2)} s = ${(SIZE / MIB / seconds).toFixed(0)} MiB/s`);
  await provider.delete('bench/object.bin');
}

const root = await mkdtemp(path.join(tmpdir(), 'kiln-bench-storage-'));
const s3 = await startS3TestServer();
try {
  await measure('local disk', createLocalDiskProvider(root));
  await measure('S3 (s3rver, loopback)', createS3Provider({
    bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials,
  }));
} finally {
  await s3.stop();
  await rm(root, { recursive: true, force: true });
}
