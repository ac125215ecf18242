import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { createLocalDiskProvider } from '../src/services/storage/local-disk-provider.js';
import { createS3Provider } from '../src/services/storage/s3-provider.js';
import type { StorageProvider } from '../src/services/storage/storage-provider.js';
import { parseRange } from '../src/routes/assets-routes.js';
import { startS3TestServer, type S3TestServer } from './support/s3-test-server.js';

/**
 * One suite, every provider: what the rest of Kiln relies on from `StorageProvider`, checked
 * against local disk and against a real S3-protocol server (s3rver on loopback).
 */
interface Harness {
  provider: StorageProvider;
  /** Partial uploads the store holds now: `.partial` files, or in-progress multipart uploads. */
  partials(): Promise<number>;
  /** Leaves a partial upload behind as a crash would, started `ageMs` ago. */
  abandonPartial(ageMs: number): Promise<void>;
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;

async function localHarness(): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-conformance-'));
  const partialDir = path.join(root, '.partial');
  return {
    provider: createLocalDiskProvider(root),
    partials: async () => (await readdir(partialDir).catch(() => [])).length,
    async abandonPartial(ageMs) {
      await mkdir(partialDir, { recursive: true });
      const file = path.join(partialDir, randomUUID());
      await writeFile(file, 'half a file');
      const then = new Date(Date.now() - ageMs);
      await utimes(file, then, then);
    },
    stop: () => rm(root, { recursive: true, force: true }),
  };
}

async function s3Harness(): Promise<Harness> {
  const s3: S3TestServer = await startS3TestServer();
  // A prefix, and pages of two, so key mapping and paging are exercised by every test.
  const prefix = 'conformance/';
  const raw = s3.client();
  return {
    provider: createS3Provider({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
      prefix,
      pageSize: 2,
    }),
    partials: async () => (await s3.inProgressUploads()).length,
    async abandonPartial(ageMs) {
      const Key = `${prefix}abandoned/${randomUUID()}`;
      const { UploadId } = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
      await raw.send(new UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 1) }));
      if (ageMs > 0) await s3.backdateUpload(UploadId!, ageMs);
    },
    stop: () => s3.stop(),
  };
}

/** Deterministic, non-repeating bytes, so a misplaced slice cannot pass for the right one. */
function bytesAt(offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const n = offset + i;
    b[i] = (n * 31 + (n >> 8) * 7 + (n >> 16)) & 0xff;
  }
  return b;
}

/** `total` bytes in `chunk`-sized pieces; `onOffset` may pause the stream (awaited) at any point. */
function source(total: number, chunk = 64 * 1024, onOffset?: (sent: number) => Promise<void> | void): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < total; sent += chunk) {
        await onOffset?.(sent);
        yield bytesAt(sent, Math.min(chunk, total - sent));
      }
    })(),
  );
}

const sha256Of = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function hashStream(stream: Readable): Promise<{ sha256: string; byteSize: number }> {
  const hash = createHash('sha256');
  let byteSize = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    byteSize += (c as Buffer).length;
  }
  return { sha256: hash.digest('hex'), byteSize };
}

async function listKeys(provider: StorageProvider): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of provider.list()) {
    expect(o.modifiedAt).toBeInstanceOf(Date);
    keys.push(o.key);
  }
  return keys.sort();
}

/** Polls a condition a bounded number of times (the tests assert states, never durations). */
async function until(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each([
  ['local disk', localHarness],
  ['S3 (s3rver)', s3Harness],
] as const)('storage provider conformance: %s', (_name, makeHarness) => {
  let h: Harness;
  let p: StorageProvider;
  const key = (name: string) => `co-${randomUUID()}/generated/2026/11/29/${name}`;
  const put = (k: string, body: Readable, maxBytes = 100 * MiB, signal?: AbortSignal) =>
    p.put(k, body, { contentType: 'application/octet-stream', maxBytes, signal });

  beforeAll(async () => {
    h = await makeHarness();
    p = h.provider;
  });
  afterAll(async () => h?.stop());

  it('put streams, counts and hashes; get returns the same bytes; head and list see the object', async () => {
    const k = key('round-trip.bin');
    const result = await put(k, source(300_000, 10_000));
    expect(result).toEqual({ byteSize: 300_000, sha256: sha256Of(bytesAt(0, 300_000)) });
    expect((await readAll(await p.get(k))).equals(bytesAt(0, 300_000))).toBe(true);
    const head = await p.head(k);
    expect(head?.byteSize).toBe(300_000);
    expect(head?.modifiedAt).toBeInstanceOf(Date);
    expect(await listKeys(p)).toContain(k);
  });

  it('stores an empty output as an empty object', async () => {
    const k = key('empty.txt');
    expect(await put(k, Readable.from([]))).toEqual({ byteSize: 0, sha256: sha256Of(Buffer.alloc(0)) });
    expect((await readAll(await p.get(k))).length).toBe(0);
    expect((await p.head(k))?.byteSize).toBe(0);
  });

  it('reads ranges exactly: first-last, suffix and open-ended (as the download route resolves them)', async () => {
    const size = 10_000;
    const k = key('ranges.bin');
    await put(k, source(size, 4096));
    const cases: [string, number, number][] = [
      ['bytes=100-199', 100, 199],
      ['bytes=-10', size - 10, size - 1],
      [`bytes=${size - 5}-`, size - 5, size - 1],
      // One byte. Not `bytes=0-0`: s3rver reads an end of 0 as "to the end" (real S3 does not).
      ['bytes=1-1', 1, 1],
      [`bytes=9000-${size + 500}`, 9000, size - 1],
    ];
    for (const [header, start, end] of cases) {
      const range = parseRange(header, size);
      expect(range, header).toEqual({ start, end });
      const got = await readAll(await p.get(k, range as { start: number; end: number }));
      expect(got.equals(bytesAt(start, end - start + 1)), header).toBe(true);
    }
  });

  it('head answers null for a missing key; delete removes the object and may be repeated', async () => {
    expect(await p.head(key('never-written.bin'))).toBeNull();
    const k = key('deleted.bin');
    await put(k, source(1000));
    await p.delete(k);
    expect(await p.head(k)).toBeNull();
    await expect(p.get(k)).rejects.toThrow();
    await p.delete(k);
    expect(await listKeys(p)).not.toContain(k);
  });

  it('list yields every finished object under its own key, across pages', async () => {
    const company = `co-${randomUUID()}`;
    const keys = ['a/1.bin', 'a/2.bin', 'b/c/3.bin', 'b/4.bin', 'd.bin'].map((n) => `${company}/generated/${n}`);
    for (const k of keys) await put(k, source(10));
    const listed = (await listKeys(p)).filter((k) => k.startsWith(`${company}/`));
    expect(listed).toEqual([...keys].sort());
  });

  it('a 12 MiB output streamed in 64 KiB chunks (a multipart upload on S3) keeps size and hash', async () => {
    const size = 12 * MiB;
    const k = key('big.bin');
    const result = await put(k, source(size));
    const expected = createHash('sha256');
    for (let o = 0; o < size; o += MiB) expected.update(bytesAt(o, MiB));
    expect(result).toEqual({ byteSize: size, sha256: expected.digest('hex') });
    expect(await hashStream(await p.get(k))).toEqual(result);
    expect(await h.partials()).toBe(0);
    // A range across the first part boundary (5 MiB) of the multipart upload.
    const start = 5 * MiB - 100;
    const got = await readAll(await p.get(k, { start, end: start + 199 }));
    expect(got.equals(bytesAt(start, 200))).toBe(true);
  });

  it('passing maxBytes mid-stream rejects with asset_too_large and leaves no object and no partial upload', async () => {
    const k = key('too-big.bin');
    // Pause at 8 MiB until a partial upload really exists (on S3: a multipart upload with its
    // first part), so the limit is hit in the middle of an upload, not before one began.
    const body = source(12 * MiB, 64 * 1024, async (sent) => {
      if (sent === 8 * MiB) await until('a partial upload', async () => (await h.partials()) > 0);
    });
    await expect(put(k, body, 10 * MiB)).rejects.toMatchObject({ code: 'asset_too_large' });
    expect(body.destroyed).toBe(true);
    expect(await p.head(k)).toBeNull();
    expect(await listKeys(p)).not.toContain(k);
    expect(await h.partials()).toBe(0);
  });

  it('passing maxBytes within the first part rejects the same way', async () => {
    const k = key('small-too-big.bin');
    await expect(put(k, source(2000, 100), 1000)).rejects.toMatchObject({ code: 'asset_too_large' });
    expect(await p.head(k)).toBeNull();
    expect(await h.partials()).toBe(0);
  });

  it('an AbortSignal fired mid-upload rejects with AbortError and leaves nothing', async () => {
    const k = key('aborted.bin');
    const controller = new AbortController();
    const body = source(12 * MiB, 64 * 1024, async (sent) => {
      if (sent === 8 * MiB) {
        await until('a partial upload', async () => (await h.partials()) > 0);
        controller.abort(new Error('job canceled'));
      }
    });
    await expect(put(k, body, 100 * MiB, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await p.head(k)).toBeNull();
    expect(await listKeys(p)).not.toContain(k);
    expect(await h.partials()).toBe(0);
  });

  it('a signal aborted before the upload starts rejects at once and writes nothing', async () => {
    const k = key('pre-aborted.bin');
    const controller = new AbortController();
    controller.abort();
    await expect(put(k, source(1000), 100 * MiB, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await p.head(k)).toBeNull();
    expect(await h.partials()).toBe(0);
  });

  it('sweepPartial removes partial uploads older than the grace period and keeps younger ones', async () => {
    const hour = 3600_000;
    await h.abandonPartial(2 * hour);
    await h.abandonPartial(2 * hour);
    await h.abandonPartial(2 * hour);
    await h.abandonPartial(0);
    expect(await h.partials()).toBe(4);
    expect(await p.sweepPartial(hour)).toBe(3);
    expect(await h.partials()).toBe(1);
    expect(await p.sweepPartial(hour)).toBe(0);
    expect(await p.sweepPartial(0)).toBe(1);
    expect(await h.partials()).toBe(0);
  });
});
