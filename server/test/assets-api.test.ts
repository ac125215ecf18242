import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

let kiln: TestKiln;
let asset: any;
const SIZE = 200_000;

beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
  const { body } = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
    kind: 'test-bytes',
    input: { bytes: SIZE },
    sourceTaskId: 'assets-task',
  });
  asset = (await waitForJob(kiln, body.jobId)).assets[0];
});
afterAll(async () => kiln?.cleanup());

const contentUrl = () => `${kiln.url}${asset.url}`;

describe('asset downloads', () => {
  it('serves the whole file with length, ETag, disposition and nosniff', async () => {
    const res = await fetch(contentUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(SIZE));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="bytes.bin"/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await res.arrayBuffer()).byteLength).toBe(SIZE);
    const attach = await fetch(`${contentUrl()}?download=1`);
    expect(attach.headers.get('content-disposition')).toMatch(/^attachment;/);
    await attach.arrayBuffer();
  });

  it('answers Range with 206 and the exact slice; suffix and open ranges too', async () => {
    const slice = await fetch(contentUrl(), { headers: { range: 'bytes=100-199' } });
    expect(slice.status).toBe(206);
    expect(slice.headers.get('content-range')).toBe(`bytes 100-199/${SIZE}`);
    expect((await slice.arrayBuffer()).byteLength).toBe(100);
    const suffix = await fetch(contentUrl(), { headers: { range: 'bytes=-10' } });
    expect(suffix.headers.get('content-range')).toBe(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expect((await suffix.arrayBuffer()).byteLength).toBe(10);
    const open = await fetch(contentUrl(), { headers: { range: `bytes=${SIZE - 5}-` } });
    expect((await open.arrayBuffer()).byteLength).toBe(5);
  });

  it('answers an unsatisfiable range with 416 and Content-Range: bytes */size', async () => {
    const res = await fetch(contentUrl(), { headers: { range: `bytes=${SIZE}-${SIZE + 10}` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`);
    expect((await res.json()).error.code).toBe('range_not_satisfiable');
  });

  it('HEAD gives headers without a body; If-None-Match gives 304', async () => {
    const head = await fetch(contentUrl(), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(SIZE));
    expect(head.headers.get('etag')).toBe(`"${asset.sha256}"`);
    const cached = await fetch(contentUrl(), { headers: { 'if-none-match': `"${asset.sha256}"` } });
    expect(cached.status).toBe(304);
  });

  it('lists by task and by job, reads one, and DELETE removes row and file', async () => {
    const byTask = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets?sourceTaskId=assets-task`);
    expect(byTask.body.items.map((a: any) => a.id)).toEqual([asset.id]);
    const byJob = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets?jobId=${asset.jobId}`);
    expect(byJob.body.items.map((a: any) => a.id)).toEqual([asset.id]);
    const one = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${asset.id}`);
    expect(one.body).toMatchObject({ id: asset.id, byteSize: SIZE, role: 'primary' });

    const { rows } = await kiln.database.pool.query('SELECT object_key FROM assets WHERE id = $1', [asset.id]);
    const file = path.join(kiln.dataDir, 'storage', rows[0].object_key);
    await access(file);
    const del = await kiln.api('DELETE', `/api/companies/${kiln.companyId}/assets/${asset.id}`);
    expect(del.status).toBe(204);
    await expect(access(file)).rejects.toThrow();
    expect((await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${asset.id}`)).status).toBe(404);
    expect((await kiln.api('DELETE', `/api/companies/${kiln.companyId}/assets/${asset.id}`)).status).toBe(404);
  });
});
