import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ConfigError, loadConfig } from '../src/config.js';
import { createS3Provider } from '../src/services/storage/s3-provider.js';
import { createStorageProvider } from '../src/services/storage/create-storage-provider.js';
import { executesInBrowser } from '../src/routes/asset-redirect.js';
import type { StorageProvider } from '../src/services/storage/storage-provider.js';
import { startS3TestServer, type S3TestServer } from './support/s3-test-server.js';

/** What only S3 has: the key prefix, presigned downloads, its configuration. */
let s3: S3TestServer;
let provider: StorageProvider;
const PREFIX = 'tenant-a/';

beforeAll(async () => {
  s3 = await startS3TestServer();
  provider = createS3Provider({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    prefix: PREFIX,
  });
});
afterAll(async () => s3?.stop());

const put = (key: string, text: string, contentType = 'text/plain') =>
  provider.put(key, Readable.from([Buffer.from(text)]), { contentType, maxBytes: 1000 });

describe('S3 key prefix', () => {
  it('stores under the prefix, lists without it, and ignores what lies outside it', async () => {
    const raw = s3.client();
    await put('c1/generated/inside.txt', 'in');
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'other-app/outside.txt', Body: 'out' }));
    await expect(raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}c1/generated/inside.txt` }))).resolves.toBeTruthy();
    const keys: string[] = [];
    for await (const o of provider.list()) keys.push(o.key);
    expect(keys).toEqual(['c1/generated/inside.txt']);
  });

  it('sweepPartial aborts only uploads under the prefix', async () => {
    const raw = s3.client();
    const mine = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${PREFIX}c1/partial.bin` }));
    const theirs = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'other-app/partial.bin' }));
    await s3.backdateUpload(mine.UploadId!, 7200_000);
    await s3.backdateUpload(theirs.UploadId!, 7200_000);
    expect(await provider.sweepPartial(3600_000)).toBe(1);
    expect((await s3.inProgressUploads()).map((u) => u.key)).toEqual(['other-app/partial.bin']);
  });

  it('refuses keys with empty-path tricks that an HTTP layer could normalise out of the prefix', async () => {
    for (const bad of ['../escape.txt', 'c1/./x.txt', 'c1/../../x.txt', '/abs.txt', '']) {
      await expect(put(bad, 'x'), bad).rejects.toThrow(/invalid storage key/);
    }
  });
});

describe('S3 presigned downloads', () => {
  it('presignGet gives a URL the server honours, with the given type and disposition, and Range', async () => {
    await put('c1/generated/card.png', 'not really a png', 'application/octet-stream');
    const url = await provider.presignGet!('c1/generated/card.png', {
      expiresInSeconds: 60,
      contentType: 'image/png',
      contentDisposition: 'attachment; filename="card.png"',
    });
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/${PREFIX}c1/generated/card.png?`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="card.png"');
    expect(await res.text()).toBe('not really a png');
    const part = await fetch(url, { headers: { range: 'bytes=4-9' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('really');
    // The server checks the signature: a changed disposition is refused.
    const tampered = await fetch(url.replace('attachment', 'inline'));
    expect(tampered.status).toBe(403);
    await tampered.arrayBuffer();
  });

  it('treats HTML, SVG and XML as types a browser executes, and images, PDF, audio, text as passive', () => {
    for (const t of ['text/html', 'text/html; charset=utf-8', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'application/rss+xml', 'IMAGE/SVG+XML']) {
      expect(executesInBrowser(t), t).toBe(true);
    }
    for (const t of ['image/png', 'image/webp', 'application/pdf', 'audio/mpeg', 'video/mp4', 'text/plain', 'text/csv', 'application/json']) {
      expect(executesInBrowser(t), t).toBe(false);
    }
  });
});

describe('S3 configuration', () => {
  const base = { KILN_DATA_DIR: '/tmp/kiln-config-test' };

  it('stops start-up with a readable message when s3 has no bucket', () => {
    expect(() => loadConfig({ ...base, KILN_STORAGE_PROVIDER: 's3' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, KILN_STORAGE_PROVIDER: 's3' })).toThrow(/KILN_S3_BUCKET: KILN_STORAGE_PROVIDER=s3 needs a bucket/);
  });

  it('resolves every KILN_S3_* setting, with defaults', () => {
    const minimal = loadConfig({ ...base, KILN_STORAGE_PROVIDER: 's3', KILN_S3_BUCKET: 'b' });
    expect(minimal.s3).toEqual({ bucket: 'b', region: 'us-east-1', endpoint: undefined, forcePathStyle: false, prefix: '', presignSeconds: null });
    const full = loadConfig({
      ...base,
      KILN_STORAGE_PROVIDER: 's3',
      KILN_S3_BUCKET: 'b',
      KILN_S3_REGION: 'eu-west-3',
      KILN_S3_ENDPOINT: 'http://127.0.0.1:9000',
      KILN_S3_FORCE_PATH_STYLE: 'true',
      KILN_S3_PREFIX: 'kiln/',
      KILN_S3_PRESIGN_SECONDS: '300',
    });
    expect(full.s3).toEqual({ bucket: 'b', region: 'eu-west-3', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, prefix: 'kiln/', presignSeconds: 300 });
    expect(loadConfig({ ...base, KILN_STORAGE_PROVIDER: 's3', KILN_S3_BUCKET: 'b', KILN_S3_FORCE_PATH_STYLE: 'false' }).s3?.forcePathStyle).toBe(false);
    expect(loadConfig(base).s3).toBeNull();
  });

  it('names the variable of a bad value', () => {
    const s3env = { ...base, KILN_STORAGE_PROVIDER: 's3', KILN_S3_BUCKET: 'b' };
    expect(() => loadConfig({ ...s3env, KILN_S3_FORCE_PATH_STYLE: 'yes please' })).toThrow(/KILN_S3_FORCE_PATH_STYLE/);
    expect(() => loadConfig({ ...s3env, KILN_S3_PRESIGN_SECONDS: '604801' })).toThrow(/KILN_S3_PRESIGN_SECONDS/);
    expect(() => loadConfig({ ...s3env, KILN_S3_ENDPOINT: 'not a url' })).toThrow(/KILN_S3_ENDPOINT/);
    expect(() => loadConfig({ ...s3env, KILN_S3_PREFIX: '/kiln' })).toThrow(/KILN_S3_PREFIX/);
    expect(() => loadConfig({ ...base, KILN_STORAGE_PROVIDER: 'gcs' })).toThrow(/KILN_STORAGE_PROVIDER/);
  });

  it('createStorageProvider picks the provider the configuration names', () => {
    expect(createStorageProvider(loadConfig(base)).name).toBe('local');
    const p = createStorageProvider(loadConfig({ ...base, KILN_STORAGE_PROVIDER: 's3', KILN_S3_BUCKET: 'b', KILN_S3_ENDPOINT: s3.endpoint }));
    expect(p.name).toBe('s3');
    expect(typeof p.presignGet).toBe('function');
  });
});
