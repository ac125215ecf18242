import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';

const run = promisify(execFile);
let kiln: TestKiln;
let scratch: string;
beforeAll(async () => {
  kiln = await startTestKiln();
  scratch = await mkdtemp(path.join(tmpdir(), 'kiln-e2e-'));
});
afterAll(async () => {
  await kiln?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function download(asset: any): Promise<string> {
  const res = await fetch(kiln.url + asset.url);
  expect(res.status).toBe(200);
  const file = path.join(scratch, `${asset.id}-${asset.filename}`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function submitAndWait(kind: string, input: unknown) {
  const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind, input, sourceTaskId: `e2e-${kind}` });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const job = await waitForJob(kiln, res.body.jobId, undefined, 90_000);
  expect(job.status, JSON.stringify(job.error)).toBe('done');
  const primary = job.assets.find((a: any) => a.role === 'primary');
  const preview = job.assets.find((a: any) => a.role === 'preview');
  expect(primary.sourceTaskId).toBe(`e2e-${kind}`);
  return { job, primary, preview };
}

const examples = async () =>
  new Map<string, any>((await kiln.api('GET', '/api/renderers')).body.items.map((r: any) => [r.kind, r.example]));

/**
 * Every real renderer, run through the whole service (HTTP → queue → render thread → streamed
 * storage → asset rows), and its files decoded the way a person would open them.
 */
describe('real renderers through Kiln', () => {
  it('image card: a PNG of the card size, and a decodable WebP preview', async () => {
    const { primary, preview } = await submitAndWait('image', { mode: 'card', title: 'Hello', size: 'og', theme: { background: '#ff0000', text: '#ffffff', accent: '#000000' } });
    const { data, info } = await sharp(await download(primary)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1200, 630]);
    expect([data[0], data[1], data[2]]).toEqual([255, 0, 0]);
    expect(primary.metadata).toMatchObject({ width: 1200, height: 630, format: 'png' });
    const p = await sharp(await download(preview)).metadata();
    expect(p.format).toBe('webp');
    expect(Math.max(p.width!, p.height!)).toBe(320);
  });

  it('chart: the example renders to a PNG with a preview', async () => {
    const { primary, preview } = await submitAndWait('chart', (await examples()).get('chart'));
    const meta = await sharp(await download(primary)).metadata();
    expect(meta.width).toBeGreaterThan(100);
    expect((await sharp(await download(preview)).metadata()).format).toBe('webp');
  });

  it('document: a PDF with the text, page count metadata and a PNG preview', async () => {
    const markdown = '# Kiln report\n\nThe **quick** brown fox.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n';
    const { primary, preview } = await submitAndWait('document', { markdown, title: 'Kiln report', author: 'Tests' });
    const file = await download(primary);
    const { stdout: text } = await run('pdftotext', [file, '-']);
    expect(text).toContain('The quick brown fox.');
    const { stdout: info } = await run('pdfinfo', [file]);
    expect(info).toMatch(/Title:\s+Kiln report/);
    expect(info).toMatch(/Author:\s+Tests/);
    expect(primary.metadata.pages).toBe(Number(/Pages:\s+(\d+)/.exec(info)![1]));
    expect((await sharp(await download(preview)).metadata()).format).toBe('png');
  });

  it('speech: an MP3 whose probed duration matches the metadata', async () => {
    const { primary } = await submitAndWait('speech', { text: 'Kiln turns requests into files.', format: 'mp3' });
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', await download(primary)]);
    const probe = JSON.parse(stdout);
    expect(probe.streams[0].codec_name).toBe('mp3');
    expect(Math.abs(Number(probe.format.duration) * 1000 - primary.metadata.durationMs)).toBeLessThan(100);
  });

  it('video: an H.264/AAC MP4 of the requested size and length', async () => {
    const svg = (fill: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="${fill}"/></svg>`;
    const { primary, preview } = await submitAndWait('video', {
      resolution: { width: 320, height: 180 },
      fps: 10,
      quality: 'draft',
      scenes: [
        { visual: { type: 'svg', svg: svg('#ff0000') }, durationMs: 1000, transition: 'fade', transitionMs: 300 },
        { visual: { type: 'svg', svg: svg('#0000ff') }, durationMs: 1000 },
      ],
      soundtrack: { type: 'narration', text: 'Red, then blue.' },
    });
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,width,height', '-of', 'json', await download(primary)]);
    const probe = JSON.parse(stdout);
    const codecs = probe.streams.map((s: any) => s.codec_name).sort();
    expect(codecs).toEqual(['aac', 'h264']);
    const v = probe.streams.find((s: any) => s.codec_name === 'h264');
    expect([v.width, v.height]).toEqual([320, 180]);
    expect(Math.abs(Number(probe.format.duration) - 2)).toBeLessThan(0.15);
    expect((await sharp(await download(preview)).metadata()).format).toBe('webp');
  });
});

describe('canceling real renders through Kiln', () => {
  it('a long video canceled mid-render ends canceled within 2 s, with no ffmpeg left and no asset', async () => {
    const svg = (fill: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"><rect width="640" height="360" fill="${fill}"/></svg>`;
    const res = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, {
      kind: 'video',
      input: {
        resolution: { width: 640, height: 360 },
        fps: 30,
        quality: 'high',
        scenes: [
          { visual: { type: 'svg', svg: svg('#112233') }, durationMs: 60_000, transition: 'fade', transitionMs: 1000 },
          { visual: { type: 'svg', svg: svg('#445566') }, durationMs: 60_000 },
        ],
      },
    });
    const jobId = res.body.jobId;
    // Wait until ffmpeg is really encoding (its own progress has arrived).
    await waitForJob(kiln, jobId, (j) => j.status === 'running' && j.progress > 0.05, 60_000);
    const ffmpegOfJob = async () => {
      const { stdout } = await run('ps', ['-eo', 'pid,args']).catch(() => ({ stdout: '' }));
      return stdout.split('\n').filter((l) => l.includes('ffmpeg') && l.includes(jobId));
    };
    expect((await ffmpegOfJob()).length).toBeGreaterThan(0);
    await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs/${jobId}/cancel`);
    const job = await waitForJob(kiln, jobId, undefined, 2000);
    expect(job).toMatchObject({ status: 'canceled', assets: [] });
    expect(await ffmpegOfJob()).toEqual([]);
  });
});
