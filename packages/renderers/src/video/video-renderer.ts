import { videoMeta } from './video-meta.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { resolveVideoSize, type VideoInput } from '@kiln/shared';
import { RenderError, defineRenderer, throwIfAborted, type RenderContext, type Renderer } from '../contract.js';
import { FONT_FILES } from '../fonts.js';
import { imageRenderer } from '../image/image-renderer.js';
import { chartRenderer } from '../chart/chart-renderer.js';
import { ffmpegProgressParser } from '../media/ffmpeg-progress.js';
import { probeMedia } from '../media/probe-media.js';
import { runProcess } from '../media/run-process.js';
import { stageProgress } from '../media/stage-progress.js';
import { saveStreamToFile, streamFileToOutput } from '../media/stream-file-to-output.js';
import { synthesizeSpeech } from '../speech/synthesize-speech.js';
import { composeSceneFrame } from './compose-scene-frame.js';
import { planTimeline, type Timeline } from './scene-timeline.js';
import { nestedSceneInput, nestedSceneRequest, renderSceneVisual, type SceneRenderers } from './scene-visuals.js';
import { buildVideoFfmpegArgs, type VideoEncodePlan } from './video-ffmpeg-args.js';
import { runConcurrently } from './run-concurrently.js';
import { checkVoice } from '../speech/espeak-voices.js';

const CONTAINERS = {
  mp4: { contentType: 'video/mp4', extension: 'mp4', videoCodec: 'h264', audioCodec: 'aac' },
  webm: { contentType: 'video/webm', extension: 'webm', videoCodec: 'vp9', audioCodec: 'opus' },
} as const;


/**
 * The `video` renderer, drawing card/chart/SVG scenes with the given sibling renderers.
 *
 * Stages and their share of progress: prepare (scene stills and soundtrack, 0–30 %), encode
 * (30–95 %, measured by ffmpeg against the known duration), preview and store (95–100 %).
 */
export function createVideoRenderer(renderers: SceneRenderers): Renderer<VideoInput> {
  return defineRenderer<VideoInput>({
    ...videoMeta,
    async assetRefs(input) {
      const frame = resolveVideoSize(input.resolution);
      const ids = new Set<string>();
      for (const scene of input.scenes) {
        if (scene.visual.type === 'asset') ids.add(scene.visual.assetId);
        // Card logos/backgrounds and chart data assets, as the nested renderer will read them. An
        // input that does not parse lists nothing here and is refused by preflight.
        const request = nestedSceneRequest(scene.visual, frame, renderers);
        const parsed = request?.renderer?.inputSchema.safeParse(request.raw);
        if (parsed?.success) for (const id of (await request!.renderer!.assetRefs?.(parsed.data)) ?? []) ids.add(id);
      }
      if (input.soundtrack?.type === 'asset') ids.add(input.soundtrack.assetId);
      return [...ids];
    },
    async preflight(input) {
      const frame = resolveVideoSize(input.resolution);
      for (const [i, scene] of input.scenes.entries()) {
        await nestedSceneInput(scene.visual, frame, renderers, ['input', 'scenes', i, 'visual']);
      }
      if (input.soundtrack?.type === 'narration') await checkVoice(input.soundtrack, ['input', 'soundtrack']);
    },
    async render(input, ctx) {
      return renderVideo(input, ctx, renderers);
    },
  });
}

/** The video renderer as shipped, drawing scenes with the built-in image and chart renderers. */
export const videoRenderer = createVideoRenderer({ image: imageRenderer, chart: chartRenderer });

async function renderVideo(input: VideoInput, ctx: RenderContext, renderers: SceneRenderers) {
  const log = (line: string) => ctx.log(line);
  const { width, height } = resolveVideoSize(input.resolution);
  const timeline = planTimeline(input.scenes, input.fps);
  const font = await readFile(FONT_FILES.sans);

  // 1. One still per scene (exactly the frame size, caption burnt in) and the soundtrack, side by
  //    side: scenes are drawn in this thread and on libuv's pool, narration in espeak-ng. Two
  //    scenes at a time keeps both cores busy without holding many full-size frames in memory.
  const prepare = stageProgress(ctx, 'prepare', 0, 0.3);
  let scenesDone = 0;
  const [sceneImages, soundtrack] = (await runConcurrently(2, 2, ctx.signal, async (task, signal) => {
    const taskCtx: RenderContext = { ...ctx, signal };
    if (task === 1) return prepareSoundtrack(input, timeline, taskCtx);
    return runConcurrently(input.scenes.length, 2, signal, async (i, sceneSignal) => {
      const scene = input.scenes[i]!;
      const visual = await renderSceneVisual(scene.visual, { width, height }, { ...ctx, signal: sceneSignal }, renderers, i);
      const still = path.join(ctx.tmpDir, `scene-${String(i).padStart(3, '0')}.png`);
      await composeSceneFrame(visual, still, {
        width,
        height,
        fit: scene.fit,
        background: input.background,
        caption: scene.caption,
        font,
        signal: sceneSignal,
      });
      prepare(++scenesDone / input.scenes.length);
      return still;
    });
  })) as [string[], PreparedSoundtrack | undefined];

  // 2. Encode into scratch space (MP4 faststart and WebM cues need a seekable file).
  const container = CONTAINERS[input.format];
  const outputPath = path.join(ctx.tmpDir, `video.${container.extension}`);
  const plan: VideoEncodePlan = { width, height, timeline, sceneImages, soundtrack, format: input.format, quality: input.quality, outputPath };
  const encode = stageProgress(ctx, 'encode', 0.3, 0.95);
  await runProcess('ffmpeg', buildVideoFfmpegArgs(plan), {
    signal: ctx.signal,
    log,
    onStdoutLine: ffmpegProgressParser(timeline.totalMs, encode),
  });

  // 3. Poster: the middle of the first scene shows exactly its still, so the still is encoded
  //    rather than a frame decoded back out of the video (same picture, no compression
  //    artefacts, and no second ffmpeg run).
  ctx.progress(0.95, 'preview');
  const posterPath = path.join(ctx.tmpDir, 'poster.webp');
  await sharp(sceneImages[0]!).webp({ quality: 85, effort: 3 }).toFile(posterPath);
  throwIfAborted(ctx.signal);

  ctx.progress(0.97, 'store');
  await streamFileToOutput(ctx, outputPath, { role: 'primary', contentType: container.contentType, filename: `video.${container.extension}` });
  await streamFileToOutput(ctx, posterPath, { role: 'preview', contentType: 'image/webp', filename: 'video-poster.webp' });
  ctx.progress(1, 'store');

  const first = timeline.clips[0]!;
  return {
    metadata: {
      primary: {
        format: input.format,
        // Exact by construction: the graph emits totalFrames and `-t` cuts the audio to match
        // (the tests check this against ffprobe).
        durationMs: Math.round(timeline.totalMs),
        width,
        height,
        fps: input.fps,
        videoCodec: container.videoCodec,
        audioCodec: soundtrack ? container.audioCodec : undefined,
        scenes: input.scenes.length,
        ...(soundtrack?.truncatedMs ? { soundtrackTruncatedMs: soundtrack.truncatedMs } : {}),
      },
      preview: { width, height, format: 'webp', atMs: Math.round(((first.startFrame + first.sceneFrames / 2) * 1000) / input.fps) },
    },
  };
}

type PreparedSoundtrack = NonNullable<VideoEncodePlan['soundtrack']> & { truncatedMs: number };

/**
 * Narration is synthesised like `speech`; an audio asset is copied out of storage and checked for
 * an audio stream. Either is cut at the video's end; the log says by how much, because narration
 * that runs past the last scene usually means the scenes are too short.
 */
async function prepareSoundtrack(
  input: VideoInput,
  timeline: Timeline,
  ctx: RenderContext,
): Promise<PreparedSoundtrack | undefined> {
  const track = input.soundtrack;
  if (!track) return undefined;
  const log = (line: string) => ctx.log(line);
  let file: string;
  if (track.type === 'narration') {
    file = path.join(ctx.tmpDir, 'narration.wav');
    await synthesizeSpeech(track, { textPath: path.join(ctx.tmpDir, 'narration.txt'), wavPath: file }, { signal: ctx.signal, log });
  } else {
    const asset = await ctx.readAsset(track.assetId);
    if (!/^(audio|video)\//.test(asset.contentType)) {
      asset.stream.destroy();
      throw new RenderError('validation_failed', `soundtrack: asset ${asset.id} is ${asset.contentType}, not audio.`, {
        details: [{ path: ['input', 'soundtrack', 'assetId'], message: `expected audio, got ${asset.contentType}` }],
      });
    }
    file = path.join(ctx.tmpDir, 'soundtrack-asset');
    await saveStreamToFile(asset.stream, file, ctx.signal);
  }
  const info = await probeMedia(file, { signal: ctx.signal, log });
  if (!info.streams.some((s) => s.codecType === 'audio')) {
    throw new RenderError('validation_failed', 'soundtrack: the asset has no audio stream.', {
      details: [{ path: ['input', 'soundtrack'], message: 'no audio stream' }],
    });
  }
  const loop = track.type === 'asset' && track.loop;
  const audioMs = info.durationMs ?? 0;
  const truncatedMs = loop ? 0 : Math.max(0, Math.round(audioMs - timeline.totalMs));
  if (truncatedMs > 0) log(`soundtrack is ${truncatedMs} ms longer than the video and is cut at its end`);
  return {
    path: file,
    kind: track.type === 'narration' ? 'narration' : 'music',
    volume: track.type === 'asset' ? track.volume : 1,
    loop,
    fadeOut: track.type === 'asset' && (loop || truncatedMs > 0),
    truncatedMs,
  };
}
