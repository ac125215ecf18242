import { FFMPEG_COMMON_ARGS, FFMPEG_PROGRESS_ARGS } from '../media/ffmpeg-progress.js';
import { framesToSeconds, type Timeline } from './scene-timeline.js';

export type VideoFormat = 'mp4' | 'webm';
export type VideoQuality = 'draft' | 'standard' | 'high';

export interface VideoEncodePlan {
  width: number;
  height: number;
  timeline: Timeline;
  /** One still per scene, already exactly width × height (see composeSceneFrame). */
  sceneImages: string[];
  soundtrack?: {
    path: string;
    /** Music is looped/faded on request; narration is neither. */
    kind: 'narration' | 'music';
    volume: number;
    loop: boolean;
    /** Fade out over the last moments because the audio is cut at the video's end. */
    fadeOut: boolean;
  };
  format: VideoFormat;
  quality: VideoQuality;
  outputPath: string;
}

/**
 * Encoder settings per quality. `standard` is what a service should default to: x264 `veryfast`
 * is within a few percent of `medium`'s size for slides and transitions at a fraction of the
 * time on a small host. VP9 is far slower than x264, hence realtime deadline below `high`.
 */
const X264: Record<VideoQuality, string[]> = {
  draft: ['-preset', 'ultrafast', '-crf', '28'],
  standard: ['-preset', 'veryfast', '-crf', '23'],
  high: ['-preset', 'medium', '-crf', '20'],
};
const VP9: Record<VideoQuality, string[]> = {
  draft: ['-deadline', 'realtime', '-cpu-used', '8', '-crf', '40'],
  standard: ['-deadline', 'realtime', '-cpu-used', '6', '-crf', '33'],
  high: ['-deadline', 'good', '-cpu-used', '2', '-crf', '30'],
};

/** The `xfade` transition each of ours maps to. */
const XFADE: Record<'fade' | 'slide', string> = { fade: 'fade', slide: 'slideleft' };

/**
 * The whole ffmpeg command line for a video, as an argument array (never a shell string).
 * Exported so the benchmark can run exactly what the renderer runs.
 *
 * Each still is decoded once and repeated with the `loop` filter (an `-loop 1` input would decode
 * the PNG again for every frame); `settb`/`setpts` number the repeats frame by frame in a 1/fps
 * time base, which `xfade` requires of both inputs. Scenes joined by a cut go through `concat`,
 * whose output is put back into that time base for the next `xfade`.
 */
export function buildVideoFfmpegArgs(plan: VideoEncodePlan): string[] {
  const { timeline, width, height } = plan;
  const { fps } = timeline;
  const args: string[] = [...FFMPEG_COMMON_ARGS, ...FFMPEG_PROGRESS_ARGS];
  // `-pattern_type none`: a `%` in the scratch path must not turn a still into an image sequence.
  for (const image of plan.sceneImages) args.push('-f', 'image2', '-pattern_type', 'none', '-framerate', String(fps), '-i', image);
  const audioInput = plan.sceneImages.length;
  if (plan.soundtrack) {
    if (plan.soundtrack.loop) args.push('-stream_loop', '-1');
    args.push('-i', plan.soundtrack.path);
  }

  const graph: string[] = [];
  timeline.clips.forEach((clip, i) => {
    graph.push(
      `[${i}:v]scale=${width}:${height},setsar=1,format=yuv420p,` +
        `loop=loop=${clip.clipFrames - 1}:size=1:start=0,settb=1/${fps},setpts=N[s${i}]`,
    );
  });
  let current = 's0';
  for (let i = 1; i < timeline.clips.length; i++) {
    const into = timeline.clips[i - 1]!;
    const next = `x${i}`;
    if (into.transition === 'cut') {
      graph.push(`[${current}][s${i}]concat=n=2:v=1:a=0,settb=1/${fps}[${next}]`);
    } else {
      graph.push(
        `[${current}][s${i}]xfade=transition=${XFADE[into.transition]}` +
          `:duration=${framesToSeconds(into.transitionFrames, fps)}` +
          `:offset=${framesToSeconds(timeline.clips[i]!.startFrame, fps)}[${next}]`,
      );
    }
    current = next;
  }
  graph.push(`[${current}]null[vout]`);

  const total = framesToSeconds(timeline.totalFrames, fps);
  if (plan.soundtrack) {
    const fade = plan.soundtrack.fadeOut
      ? `,afade=t=out:st=${Math.max(0, timeline.totalMs / 1000 - 0.5).toFixed(3)}:d=0.5`
      : '';
    // apad + atrim: the audio track lasts exactly as long as the picture, shorter audio is
    // followed by silence and longer audio is cut.
    graph.push(
      `[${audioInput}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,` +
        `volume=${plan.soundtrack.volume},apad,atrim=end=${total}${fade}[aout]`,
    );
  }

  args.push('-filter_complex', graph.join(';'), '-map', '[vout]');
  if (plan.soundtrack) args.push('-map', '[aout]');
  // `-t` rather than `-frames:v`: a frame limit ends the file when the last frame is written and
  // drops the audio packets still queued behind it.
  args.push('-r', String(fps));

  if (plan.format === 'mp4') {
    args.push('-c:v', 'libx264', ...X264[plan.quality], '-pix_fmt', 'yuv420p');
    if (plan.soundtrack) args.push('-c:a', 'aac', '-b:a', '128k');
    // faststart: the index goes to the front so players can start before the download ends.
    args.push('-movflags', '+faststart', '-f', 'mp4');
  } else {
    args.push('-c:v', 'libvpx-vp9', '-b:v', '0', ...VP9[plan.quality], '-row-mt', '1', '-pix_fmt', 'yuv420p');
    if (plan.soundtrack) args.push('-c:a', 'libopus', '-b:a', '96k');
    args.push('-f', 'webm');
  }
  args.push('-t', total, plan.outputPath);
  return args;
}
