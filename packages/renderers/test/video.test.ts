import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { z } from 'zod';
import { videoRenderer } from '../src/video/video-renderer.js';
import { planTimeline } from '../src/video/scene-timeline.js';
import { probeMedia } from '../src/media/probe-media.js';
import { RenderError, type RenderContext } from '../src/contract.js';
import type { FileAsset } from '../src/testing/file-render-context.js';
import { processesInGroups, spawnedPids } from './support/process-groups.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun } = useRenderRuns();

const run = promisify(execFile);

const solidSvg = (fill: string) => ({
  type: 'svg' as const,
  svg: `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="18"><rect width="32" height="18" fill="${fill}"/></svg>`,
});

/** Small and fast: every test video is 320×180 at 15 fps with x264 ultrafast. */
const SMALL = { resolution: { width: 320, height: 180 }, fps: 15, quality: 'draft' } as const;
const FRAME_MS = 1000 / SMALL.fps;

/** The average colour of a patch (top-left by default, away from captions) of the frame at `seconds`. */
async function colourAt(file: string, seconds: number, crop = 'crop=32:32:8:8'): Promise<[number, number, number]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', seconds.toFixed(3), '-i', file, '-frames:v', '1', '-vf', `${crop},scale=1:1`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer' },
  );
  return [stdout[0]!, stdout[1]!, stdout[2]!];
}

/** The brightest channel value anywhere in a region (`crop=w:h:x:y`) of the frame at `seconds`. */
async function brightestIn(file: string, seconds: number, crop: string): Promise<number> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', seconds.toFixed(3), '-i', file, '-frames:v', '1', '-vf', crop, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  return Math.max(...stdout);
}

function expectColour(actual: [number, number, number], expected: [number, number, number]) {
  for (let i = 0; i < 3; i++) expect(Math.abs(actual[i]! - expected[i]!), `${actual} ≈ ${expected}`).toBeLessThanOrEqual(16);
}

let fixtures: { dir: string; green: FileAsset; yellow: FileAsset; tone: FileAsset; text: FileAsset };

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-video-fixtures-'));
  const green = path.join(dir, 'green.png');
  const yellow = path.join(dir, 'yellow.jpg');
  // Different aspect ratios on purpose: the renderer fits them to the frame.
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00ff00' } }).png().toFile(green);
  await sharp({ create: { width: 400, height: 100, channels: 3, background: '#ffff00' } }).jpeg().toFile(yellow);
  const tone = path.join(dir, 'tone.wav');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '44100', tone]);
  const text = path.join(dir, 'notes.txt');
  await writeFile(text, 'not a picture');
  fixtures = {
    dir,
    green: { id: 'asset-green', path: green, contentType: 'image/png' },
    yellow: { id: 'asset-yellow', path: yellow, contentType: 'image/jpeg' },
    tone: { id: 'asset-tone', path: tone, contentType: 'audio/wav' },
    text: { id: 'asset-text', path: text, contentType: 'text/plain' },
  };
});

afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

const renderVideo = (raw: Record<string, unknown>, assets: FileAsset[] = []) => renderWith(videoRenderer, raw, newRun, assets);

describe('video renderer', () => {
  it('renders H.264 + AAC MP4 of the requested length, each scene in its place, with a poster', async () => {
    // 0–1.0 red (fades into green over 0.4 s), 1.0–2.0 green, cut, 2.0–2.8 blue (slides into
    // yellow over 0.3 s), 2.8–3.5 yellow. Total 3.5 s: transitions take no extra time.
    const { run, result, primary, preview } = await renderVideo(
      {
        ...SMALL,
        scenes: [
          { visual: solidSvg('#ff0000'), durationMs: 1000, transition: 'fade', transitionMs: 400 },
          { visual: { type: 'asset', assetId: fixtures.green.id }, durationMs: 1000, fit: 'cover' },
          { visual: solidSvg('#0000ff'), durationMs: 800, transition: 'slide', transitionMs: 300 },
          { visual: { type: 'asset', assetId: fixtures.yellow.id }, durationMs: 700, fit: 'cover' },
        ],
        soundtrack: { type: 'narration', text: 'One, two, three.' },
      },
      [fixtures.green, fixtures.yellow],
    );
    expect(primary.contentType).toBe('video/mp4');
    const info = await probeMedia(primary.path);
    const video = info.streams.find((s) => s.codecType === 'video')!;
    const audio = info.streams.find((s) => s.codecType === 'audio');
    expect(video).toMatchObject({ codecName: 'h264', width: 320, height: 180, fps: 15 });
    expect(audio?.codecName).toBe('aac');
    expect(Math.abs(info.durationMs! - 3500)).toBeLessThanOrEqual(FRAME_MS);

    expectColour(await colourAt(primary.path, 0.5), [255, 0, 0]);
    const mid = await colourAt(primary.path, 1.2); // halfway through the fade
    expect(mid[0]).toBeGreaterThan(60);
    expect(mid[1]).toBeGreaterThan(60);
    expectColour(await colourAt(primary.path, 1.7), [0, 255, 0]);
    expectColour(await colourAt(primary.path, 2.4), [0, 0, 255]);
    expectColour(await colourAt(primary.path, 3.3), [255, 255, 0]);

    expect(result.metadata!.primary).toMatchObject({ format: 'mp4', width: 320, height: 180, fps: 15, videoCodec: 'h264', audioCodec: 'aac' });
    expect(Math.abs(result.metadata!.primary!.durationMs! - 3500)).toBeLessThanOrEqual(FRAME_MS);

    // The faststart index sits in front of the media data.
    const head = readFileSync(primary.path).subarray(0, 4096).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(-1);
    expect(head.indexOf('moov')).toBeLessThan(Math.max(head.indexOf('mdat'), 4096));

    expect(preview.contentType).toBe('image/webp');
    const poster = await sharp(preview.path).raw().toBuffer({ resolveWithObject: true });
    expect(poster.info).toMatchObject({ width: 320, height: 180 });
    expectColour([poster.data[0]!, poster.data[1]!, poster.data[2]!], [255, 0, 0]);

    const fractions = run.progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect(run.progress.some((p) => p.stage === 'encode')).toBe(true);
  });

  it('renders WebM (VP9 + Opus) with a looped music asset', async () => {
    const { primary, result } = await renderVideo(
      {
        ...SMALL,
        format: 'webm',
        scenes: [
          { visual: solidSvg('#ffffff'), durationMs: 1200, transition: 'fade', transitionMs: 300 },
          { visual: solidSvg('#000000'), durationMs: 1300 },
        ],
        soundtrack: { type: 'asset', assetId: fixtures.tone.id, loop: true, volume: 0.5 },
      },
      [fixtures.tone],
    );
    expect(primary.contentType).toBe('video/webm');
    const info = await probeMedia(primary.path);
    expect(info.streams.find((s) => s.codecType === 'video')?.codecName).toBe('vp9');
    expect(info.streams.find((s) => s.codecType === 'audio')?.codecName).toBe('opus');
    // The 1 s tone is looped to the full 2.5 s (WebM stores duration in ms, Opus adds a little).
    expect(Math.abs(info.durationMs! - 2500)).toBeLessThanOrEqual(FRAME_MS);
    expect(result.metadata!.primary).toMatchObject({ format: 'webm', videoCodec: 'vp9', audioCodec: 'opus' });
    expectColour(await colourAt(primary.path, 2.2), [0, 0, 0]);
  });

  it('has no audio stream without a soundtrack, and uses the preset resolution', async () => {
    const { primary } = await renderVideo({ resolution: 'vertical', fps: 10, quality: 'draft', scenes: [{ visual: solidSvg('#808080'), durationMs: 500 }] });
    const info = await probeMedia(primary.path);
    expect(info.streams.map((s) => s.codecType)).toEqual(['video']);
    expect(info.streams[0]).toMatchObject({ width: 1080, height: 1920 });
    expect(Math.abs(info.durationMs! - 500)).toBeLessThanOrEqual(100);
  });

  it('burns captions in with the shipped font, whatever characters they contain', async () => {
    const { primary } = await renderVideo({
      ...SMALL,
      scenes: [{ visual: solidSvg('#000000'), durationMs: 1000, caption: `100% "done": it's {pts} \\ ; [x] <b>&amp;` }],
    });
    // White text along the bottom of the black frame, nothing elsewhere.
    expect(await brightestIn(primary.path, 0.5, 'crop=320:40:0:140')).toBeGreaterThan(200);
    expect(await brightestIn(primary.path, 0.5, 'crop=320:120:0:0')).toBeLessThan(40);
  });

  it('draws card scenes with the image renderer', async () => {
    const { primary } = await renderVideo({
      ...SMALL,
      scenes: [{ visual: { type: 'card', card: { title: 'Hello', theme: { background: '#ff00ff' } } }, durationMs: 600 }],
    });
    expectColour(await colourAt(primary.path, 0.3, 'crop=8:8:2:170'), [255, 0, 255]);
  });

  it('draws chart scenes with the chart renderer, sized for the frame', async () => {
    const { primary } = await renderVideo({
      ...SMALL,
      background: '#ff0000',
      scenes: [
        {
          visual: {
            type: 'chart',
            chart: {
              spec: {
                background: '#00ff00',
                data: { values: [{ x: 'a', y: 1 }, { x: 'b', y: 3 }] },
                mark: 'bar',
                encoding: { x: { field: 'x', type: 'nominal' }, y: { field: 'y', type: 'quantitative' } },
              },
            },
          },
          durationMs: 600,
        },
      ],
    });
    // The chart's own background fills most of the frame; the video background shows only in
    // the letterbox, if at all.
    expectColour(await colourAt(primary.path, 0.3, 'crop=12:12:20:4'), [0, 255, 0]);
    expectColour(await colourAt(primary.path, 0.3, 'crop=4:20:0:80'), [255, 0, 0]); // letterbox
    const nestedChart = videoRenderer.inputSchema.parse({ scenes: [{ visual: { type: 'chart', chart: { spec: { mark: 'bar', data: { url: 'https://example.com/x.csv' } } } } }] });
    await expect(Promise.resolve().then(() => videoRenderer.preflight!(nestedChart))).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('fails with asset_not_found for an asset it cannot read, and refuses non-images', async () => {
    const missing = await newRun();
    const input = videoRenderer.inputSchema.parse({ ...SMALL, scenes: [{ visual: { type: 'asset', assetId: 'no-such-asset' }, durationMs: 500 }] });
    await expect(videoRenderer.render(input, missing.ctx)).rejects.toMatchObject({ code: 'asset_not_found' });
    expect(missing.outputs).toHaveLength(0);

    const wrongKind = await newRun({ assets: [fixtures.text] });
    const textScene = videoRenderer.inputSchema.parse({ ...SMALL, scenes: [{ visual: { type: 'asset', assetId: fixtures.text.id }, durationMs: 500 }] });
    await expect(videoRenderer.render(textScene, wrongKind.ctx)).rejects.toMatchObject({ code: 'validation_failed' });

    const silent = await newRun({ assets: [fixtures.green] });
    const pictureAsSound = videoRenderer.inputSchema.parse({
      ...SMALL,
      scenes: [{ visual: solidSvg('#000000'), durationMs: 500 }],
      soundtrack: { type: 'asset', assetId: fixtures.green.id },
    });
    await expect(videoRenderer.render(pictureAsSound, silent.ctx)).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('abort mid-encode rejects within 2 s and leaves no process and no output', async () => {
    const runCtx = await newRun();
    let abortedAt = 0;
    const ctx: RenderContext = {
      ...runCtx.ctx,
      progress(fraction, stage) {
        runCtx.ctx.progress(fraction, stage);
        if (stage === 'encode' && !abortedAt) {
          abortedAt = -1;
          setTimeout(() => {
            abortedAt = Date.now();
            runCtx.abort(new RenderError('canceled', 'canceled by test'));
          }, 400);
        }
      },
    };
    // A minute of 640×360 at x264 "medium": several seconds of encoding on this machine.
    const input = videoRenderer.inputSchema.parse({
      resolution: { width: 640, height: 360 },
      fps: 30,
      quality: 'high',
      scenes: [
        { visual: solidSvg('#ff0000'), durationMs: 30_000, transition: 'fade', transitionMs: 5000 },
        { visual: solidSvg('#0000ff'), durationMs: 30_000 },
      ],
    });
    const error = await videoRenderer.render(input, ctx).catch((e: unknown) => e);
    const settledAt = Date.now();
    expect(error).toMatchObject({ code: 'canceled' });
    expect(abortedAt).toBeGreaterThan(0);
    expect(settledAt - abortedAt).toBeLessThan(2000);
    // It was the encode that was killed: ffmpeg started once, and nothing came after it.
    expect(runCtx.logs.filter((l) => l.startsWith('spawned ffmpeg '))).toHaveLength(1);
    expect(runCtx.progress.at(-1)?.stage).toBe('encode');
    expect(processesInGroups(spawnedPids(runCtx.logs))).toEqual([]);
    await runCtx.settled();
    expect(runCtx.outputFor('primary')).toBeUndefined();
  });

  it('checks scene visuals before queueing (preflight)', async () => {
    const preflight = (raw: Record<string, unknown>) => Promise.resolve().then(() => videoRenderer.preflight!(videoRenderer.inputSchema.parse(raw)));
    await expect(
      preflight({ scenes: [{ visual: { type: 'svg', svg: '<svg xmlns="http://www.w3.org/2000/svg"><image href="/etc/passwd"/></svg>' } }] }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    // A card is typed in the video's own schema: a missing title is refused there, with its path.
    const badCard = videoRenderer.inputSchema.safeParse({ scenes: [{ visual: solidSvg('#000') }, { visual: { type: 'card', card: { subtitle: 'no title' } } }] });
    expect(badCard.success).toBe(false);
    expect(badCard.error!.issues[0]!.path).toEqual(['scenes', 1, 'visual', 'card', 'title']);
    // What only the card renderer can tell (text that cannot fit) is still found by preflight.
    const tooLong = await preflight({ scenes: [{ visual: { type: 'card', card: { title: 'W'.repeat(200), size: { width: 64, height: 64 } } } }] }).catch(
      (e: RenderError) => e,
    );
    expect(tooLong).toMatchObject({ code: 'validation_failed' });
    expect(JSON.stringify((tooLong as RenderError).options.details)).toContain('"scenes",0,"visual","card"');

    // A narration voice espeak-ng does not have is refused here, not after the scenes are drawn.
    await expect(preflight({ scenes: [{ visual: solidSvg('#000') }], soundtrack: { type: 'narration', text: 'Hi', voice: 'zz-qq' } })).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [{ path: ['input', 'soundtrack', 'voice'] }] },
    });
    await expect(preflight({ scenes: [{ visual: solidSvg('#000') }], soundtrack: { type: 'narration', text: 'Hi', voice: 'en-gb', variant: 'm3' } })).resolves.toBeUndefined();
  });

  it('lists every referenced asset for the company check', async () => {
    const input = videoRenderer.inputSchema.parse({
      scenes: [
        { visual: { type: 'asset', assetId: 'a1' } },
        { visual: { type: 'card', card: { title: 'Logo', logoAssetId: '5f0c8a52-0d3b-4e43-9a43-0d5b8f1b2c11' } } },
        { visual: solidSvg('#000') },
        // `format` is overridden by the video (PNG), so this chart input is valid and its data asset counts.
        { visual: { type: 'chart', chart: { spec: { mark: 'bar' }, dataAssetId: '0b7e2c1a-7d3f-4a51-8d0e-5c6f7a8b9c0d', format: 'svg' } } },
      ],
      soundtrack: { type: 'asset', assetId: 'a2' },
    });
    expect((await videoRenderer.assetRefs!(input)).sort()).toEqual([
      '0b7e2c1a-7d3f-4a51-8d0e-5c6f7a8b9c0d',
      '5f0c8a52-0d3b-4e43-9a43-0d5b8f1b2c11',
      'a1',
      'a2',
    ]);
  });

  it('validates input at the schema', () => {
    const scene = { visual: solidSvg('#000'), durationMs: 1000 };
    const ok = (raw: Record<string, unknown>) => videoRenderer.inputSchema.safeParse(raw).success;
    expect(ok({ scenes: [scene] })).toBe(true);
    expect(ok({ scenes: [] })).toBe(false);
    expect(ok({ resolution: { width: 321, height: 180 }, scenes: [scene] })).toBe(false);
    expect(ok({ resolution: '4k', scenes: [scene] })).toBe(false);
    // A transition plays over the next scene, so it may not outlast it.
    expect(ok({ scenes: [{ ...scene, transition: 'fade', transitionMs: 1500 }, scene] })).toBe(false);
    expect(ok({ scenes: Array.from({ length: 6 }, () => ({ ...scene, durationMs: 120_000 })) })).toBe(false);
    expect(ok({ fps: 2, scenes: [{ ...scene, durationMs: 100 }] })).toBe(false);
    expect(videoRenderer.inputSchema.parse(videoRenderer.example)).toMatchObject({ resolution: '720p', fps: 30 });
    // What GET /api/renderers publishes.
    expect(() => z.toJSONSchema(videoRenderer.inputSchema, { io: 'input' })).not.toThrow();
  });

  it('renders its example (720p, card + SVG scenes, narration)', async () => {
    const { primary, result } = await renderVideo(videoRenderer.example as unknown as Record<string, unknown>);
    const info = await probeMedia(primary.path);
    expect(info.streams.map((s) => `${s.codecType}:${s.codecName}`).sort()).toEqual(['audio:aac', 'video:h264']);
    expect(info.streams.find((s) => s.codecType === 'video')).toMatchObject({ width: 1280, height: 720 });
    expect(Math.abs(info.durationMs! - 6000)).toBeLessThanOrEqual(1000 / 30);
    expect(result.metadata!.primary).toMatchObject({ durationMs: 6000, width: 1280, height: 720, fps: 30 });
  });
});

describe('planTimeline', () => {
  it('counts transitions inside the next scene, so the total is the sum of durations', () => {
    const t = planTimeline(
      [
        { durationMs: 1000, transition: 'fade', transitionMs: 500 },
        { durationMs: 1000, transition: 'slide', transitionMs: 300 },
        { durationMs: 1000, transition: 'fade', transitionMs: 500 },
      ],
      30,
    );
    expect(t.totalFrames).toBe(90);
    expect(t.totalMs).toBe(3000);
    expect(t.clips.map((c) => [c.startFrame, c.sceneFrames, c.transitionFrames, c.clipFrames])).toEqual([
      [0, 30, 15, 45],
      [30, 30, 9, 39],
      [60, 30, 0, 30], // the last scene's transition is ignored
    ]);
  });

  it('rounds boundaries from the running total, so rounding never accumulates', () => {
    const scenes = Array.from({ length: 50 }, () => ({ durationMs: 1001, transition: 'cut' as const, transitionMs: 500 }));
    const t = planTimeline(scenes, 24);
    expect(Math.abs(t.totalMs - 50_050)).toBeLessThanOrEqual(1000 / 24 / 2);
    expect(t.clips.every((c) => c.sceneFrames === 24 || c.sceneFrames === 25)).toBe(true);
  });
});
