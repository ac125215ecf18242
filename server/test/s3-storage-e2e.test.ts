import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { filesUnder } from './support/files-under.js';
import { startS3TestServer, type S3TestServer } from './support/s3-test-server.js';
import { startTestKiln, svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';

/**
 * Kiln on S3 end to end, as a scaled-out install runs it: `writer` (API + worker) renders into
 * the bucket; `reader` (API only, same database, presigned downloads on) serves what the other
 * process wrote, without any shared disk.
 */
const PREFIX = 'kiln/';
let s3: S3TestServer;
let writer: TestKiln;
let reader: TestKiln;

beforeAll(async () => {
  s3 = await startS3TestServer();
  const env = s3.kilnEnv({ KILN_S3_PREFIX: PREFIX });
  // The SDK's default credential chain reads these from the process environment.
  for (const [k, v] of Object.entries(env)) if (k.startsWith('AWS_')) vi.stubEnv(k, v);
  writer = await startTestKiln(env);
  reader = await startTestKiln({ ...env, KILN_S3_PRESIGN_SECONDS: '120' }, { worker: false, databaseUrl: writer.databaseUrl });
});
afterAll(async () => {
  await reader?.cleanup();
  await writer?.cleanup();
  await s3?.stop();
  vi.unstubAllEnvs();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

async function runJob(kind: string, input: unknown) {
  const res = await writer.api('POST', `/api/companies/${writer.companyId}/content-jobs`, { kind, input });
  expect(res.status).toBe(202);
  const job = await waitForJob(writer, res.body.jobId);
  expect(job.status, JSON.stringify(job.error)).toBe('done');
  return job;
}

describe('Kiln with KILN_STORAGE_PROVIDER=s3', () => {
  let png: any;

  beforeAll(async () => {
    const job = await runJob('image', { svg: svgOf('#ff8800', 120, 60), format: 'png' });
    png = job.assets.find((a: any) => a.role === 'primary');
    expect(png.contentType).toBe('image/png');
  });

  it('renders into the bucket under the prefix, and nothing onto local disk', async () => {
    const { rows } = await writer.database.pool.query('SELECT provider, object_key FROM assets WHERE id = $1', [png.id]);
    expect(rows[0].provider).toBe('s3');
    const head = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: PREFIX + rows[0].object_key }));
    expect(head.ContentLength).toBe(png.byteSize);
    expect(await filesUnder(path.join(writer.dataDir, 'storage'))).toEqual([]);
    expect(await s3.inProgressUploads()).toEqual([]);
  });

  it('streams the asset through Kiln when presigning is off, with Range, HEAD and ETag', async () => {
    const url = writer.url + png.url;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${png.sha256}"`);
    expect(sha256(await bytesOf(res))).toBe(png.sha256);
    const part = await fetch(url, { headers: { range: 'bytes=0-7' } });
    expect(part.status).toBe(206);
    expect((await bytesOf(part)).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.byteSize));
  });

  it('redirects to a presigned URL that returns the same bytes, type and disposition', async () => {
    const url = reader.url + png.url;
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const location = res.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/${PREFIX}`)).toBe(true);
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-type')).toBe('image/png');
    expect(direct.headers.get('content-disposition')).toMatch(/^inline; filename="/);
    expect(sha256(await bytesOf(direct))).toBe(png.sha256);

    // ?download=1 asks the store for an attachment.
    const attach = await fetch(`${url}?download=1`, { redirect: 'manual' });
    const attached = await fetch(attach.headers.get('location')!);
    expect(attached.headers.get('content-disposition')).toMatch(/^attachment; filename="/);
    await attached.arrayBuffer();

    // A client that follows the redirect keeps its Range header; the store answers the slice.
    const part = await fetch(url, { headers: { range: 'bytes=1-3' } });
    expect(part.status).toBe(206);
    expect((await bytesOf(part)).toString('latin1')).toBe('PNG');
  });

  it('still answers HEAD, If-None-Match and an unsatisfiable Range itself when presigning is on', async () => {
    const url = reader.url + png.url;
    const head = await fetch(url, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(`"${png.sha256}"`);
    const cached = await fetch(url, { headers: { 'if-none-match': `"${png.sha256}"` }, redirect: 'manual' });
    expect(cached.status).toBe(304);
    const bad = await fetch(url, { headers: { range: `bytes=${png.byteSize + 10}-` }, redirect: 'manual' });
    expect(bad.status).toBe(416);
    expect((await bad.json()).error.code).toBe('range_not_satisfiable');
  });

  it('never redirects an SVG: it is streamed by Kiln with nosniff', async () => {
    const examples = (await reader.api('GET', '/api/renderers')).body;
    const chart = (examples.items ?? examples).find((r: any) => r.kind === 'chart');
    const job = await runJob('chart', { ...chart.example, format: 'svg' });
    const svg = job.assets.find((a: any) => a.role === 'primary');
    expect(svg.contentType).toBe('image/svg+xml');
    const res = await fetch(reader.url + svg.url, { redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await bytesOf(res);
    expect(sha256(body)).toBe(svg.sha256);
    expect(body.toString('utf8')).toContain('<svg');
  });

  it('DELETE removes the object from the bucket', async () => {
    const job = await runJob('image', { svg: svgOf('#0000ff'), format: 'png' });
    const asset = job.assets.find((a: any) => a.role === 'primary');
    const { rows } = await writer.database.pool.query('SELECT object_key FROM assets WHERE id = $1', [asset.id]);
    const del = await reader.api('DELETE', `/api/companies/${reader.companyId}/assets/${asset.id}`);
    expect(del.status).toBe(204);
    await expect(s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: PREFIX + rows[0].object_key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});
