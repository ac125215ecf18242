import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { filesUnder } from './support/files-under.js';
import { pngClaiming } from './support/hostile-bombs.js';
import { probeMedia } from '../../packages/renderers/src/media/probe-media.js';

/**
 * Agents bring their own files: uploads are streamed into storage, checked for being what they
 * say they are (off the API's thread), and usable as job inputs like any other asset.
 */
let kiln: TestKiln;
let png: Buffer;

beforeAll(async () => {
  kiln = await startTestKiln({ MAX_UPLOAD_BYTES: String(1024 * 1024) });
  png = await sharp({ create: { width: 120, height: 80, channels: 4, background: '#e11d48' } }).png().toBuffer();
});
afterAll(() => kiln?.cleanup());

const assetsPath = () => `/api/companies/${kiln.companyId}/assets`;
async function upload(body: BodyInit | Buffer, type: string | undefined, filename = 'file', init: RequestInit = {}) {
  const res = await fetch(`${kiln.url}${assetsPath()}?filename=${encodeURIComponent(filename)}`, {
    method: 'POST',
    body: (Buffer.isBuffer(body) ? new Uint8Array(body) : body) as BodyInit,
    headers: type ? { 'content-type': type } : {},
    ...init,
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}
const storedFiles = async () => (await filesUnder(path.join(kiln.dataDir, 'storage'))).filter((f) => f.includes('/uploads/'));
const uploadRows = async () => (await kiln.database.pool.query(`SELECT count(*)::int AS n FROM assets WHERE role = 'input'`)).rows[0].n as number;

describe('uploading files', () => {
  it('stores a PNG as an input asset with its size, usable as a card logo', async () => {
    const res = await upload(png, 'image/png', 'logo.png');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ role: 'input', jobId: null, contentType: 'image/png', filename: 'logo.png', byteSize: png.length, metadata: { width: 120, height: 80 } });
    expect(res.headers.get('location')).toBe(`${assetsPath()}/${res.body.id}`);
    const back = Buffer.from(await (await fetch(kiln.url + res.body.url)).arrayBuffer());
    expect(back.equals(png)).toBe(true);

    const job = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
      kind: 'image', input: { mode: 'card', title: 'Uploaded logo', logoAssetId: res.body.id, format: 'png' },
    }, { prefer: 'wait=60' });
    expect(job.body.status, JSON.stringify(job.body.error)).toBe('done');
    expect(job.body.inputAssetIds).toEqual([res.body.id]);
    const lineage = await kiln.api('GET', `${assetsPath()}/${res.body.id}/lineage`);
    expect(lineage.body.descendants.map((n: any) => n.asset.id)).toContain(job.body.output.id);
  });

  it('stores a CSV that a chart then reads', async () => {
    const csv = 'day,jobs\nMon,3\nTue,5\nWed,4\n';
    const res = await upload(csv, 'text/csv', 'data.csv');
    expect(res.status).toBe(201);
    expect(res.body.metadata).toMatchObject({ format: 'csv', rows: 3 });
    const job = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
      kind: 'chart',
      input: { dataAssetId: res.body.id, format: 'png', spec: { mark: 'bar', encoding: { x: { field: 'day', type: 'nominal' }, y: { field: 'jobs', type: 'quantitative' } } } },
    }, { prefer: 'wait=60' });
    expect(job.body.status, JSON.stringify(job.body.error)).toBe('done');
    const chart = Buffer.from(await (await fetch(kiln.url + job.body.output.url)).arrayBuffer());
    expect((await sharp(chart).metadata()).format).toBe('png');
  });

  it('stores a WAV that a video then plays as its soundtrack', async () => {
    const wavPath = path.join(tmpdir(), `kiln-upload-${process.pid}.wav`);
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', wavPath]);
    const res = await upload(await readFile(wavPath), 'audio/wav', 'tone.wav');
    expect(res.status).toBe(201);
    const job = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
      kind: 'video',
      input: {
        resolution: { width: 160, height: 96 }, fps: 10, quality: 'draft',
        scenes: [{ visual: { type: 'svg', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="96"><rect width="160" height="96" fill="#0ea5e9"/></svg>' }, durationMs: 1000 }],
        soundtrack: { type: 'asset', assetId: res.body.id },
      },
    }, { prefer: 'wait=60' });
    const done = job.body.status === 'done' ? job.body : await waitForJob(kiln, job.body.id, undefined, 60_000);
    expect(done.status, JSON.stringify(done.error)).toBe('done');
    const mp4 = path.join(tmpdir(), `kiln-upload-${process.pid}.mp4`);
    await import('node:fs/promises').then((fs) => fetch(kiln.url + done.output.url).then(async (r) => fs.writeFile(mp4, Buffer.from(await r.arrayBuffer()))));
    const probe = await probeMedia(mp4, { signal: new AbortController().signal });
    expect(probe.streams.some((s: { codecType?: string; codec_type?: string }) => (s.codecType ?? s.codec_type) === 'audio')).toBe(true);
  });

  it('accepts a browser form (multipart/form-data)', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'form.png');
    const res = await fetch(`${kiln.url}${assetsPath()}`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ filename: 'form.png', contentType: 'image/png', byteSize: png.length });
  });
});

describe('refused uploads leave nothing behind', () => {
  it.each([
    ['a JPEG declared as PNG', async () => sharp(png).jpeg().toBuffer(), 'image/png', 415, 'unsupported_media_type'],
    ['a PNG declared as CSV', async () => png, 'text/csv', 415, 'unsupported_media_type'],
    ['a type that is not accepted', async () => Buffer.from('MZ\x90\x00'), 'application/x-msdownload', 415, 'unsupported_media_type'],
    ['no type at all', async () => Buffer.from('hello'), undefined, 415, 'unsupported_media_type'],
    ['JSON that does not parse', async () => Buffer.from('{"a": [1, 2'), 'application/json', 400, 'validation_failed'],
    ['text that is not UTF-8', async () => Buffer.from([0x61, 0xff, 0xfe, 0x62]), 'text/plain', 400, 'validation_failed'],
    ['SVG that reaches for a file', async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'), 'image/svg+xml', 400, 'validation_failed'],
    ['a PNG cut in half', async () => png.subarray(0, Math.floor(png.length / 2)), 'image/png', 400, 'validation_failed'],
    ['a PNG that claims 50,000 × 50,000 pixels', async () => pngClaiming(50_000, 50_000), 'image/png', 400, 'validation_failed'],
  ] as const)('%s → %i %s', async (_name, bytes, type, status, code) => {
    const filesBefore = await storedFiles();
    const rowsBefore = await uploadRows();
    const res = await upload(await bytes(), type, 'bad.bin');
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await storedFiles()).toEqual(filesBefore);
    expect(await uploadRows()).toBe(rowsBefore);
  });

  it('says which cap an oversized image passes', async () => {
    const res = await upload(pngClaiming(50_000, 50_000), 'image/png', 'huge.png');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ limit: 16_384, actual: 50_000 })]));
  });

  it('a CSV with more rows than a chart may read is refused with the cap', async () => {
    const rows = Array.from({ length: 100_005 }, (_, i) => `${i}`).join('\n');
    const res = await upload(`n\n${rows}\n`, 'text/csv', 'big.csv');
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ limit: 100_000 });
  });

  it('over MAX_UPLOAD_BYTES → 413 payload_too_large, with or without a Content-Length, and nothing stored', async () => {
    const filesBefore = await storedFiles();
    const big = Buffer.alloc(1024 * 1024 + 10, 0x41);
    const declared = await upload(big, 'text/plain', 'big.txt');
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe('payload_too_large');
    // Streamed without a length: refused mid-stream.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x42));
        controller.close();
      },
    });
    const streamed = await upload(stream, 'text/plain', 'streamed.txt', { duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe('payload_too_large');
    expect(await storedFiles()).toEqual(filesBefore);
    const partials = (await filesUnder(path.join(kiln.dataDir, 'storage'))).filter((f) => !f.includes('/generated/') && !f.includes('/uploads/'));
    expect(partials).toEqual([]);
    // The refused bytes left on the connection hold up nothing: the client's next upload is answered.
    expect((await upload(png, 'image/png', 'after.png')).status).toBe(201);
  });
});

describe('serving what a browser would execute', () => {
  it('an SVG asset is served with a sandbox CSP and nosniff; a PNG without the CSP', async () => {
    const svg = await upload('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>', 'image/svg+xml', 'a.svg');
    expect(svg.status).toBe(201);
    const res = await fetch(kiln.url + svg.body.url);
    expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const pngRes = await fetch(kiln.url + (await upload(png, 'image/png', 'b.png')).body.url);
    expect(pngRes.headers.get('content-security-policy')).toBeNull();
    expect(pngRes.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
