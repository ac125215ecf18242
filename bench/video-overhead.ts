/**
 * What the video renderer costs on top of ffmpeg.
 *
 * Renders a 10 s 1280×720 three-scene video (card, SVG, SVG with caption; crossfades; narration)
 * with the renderer in-process through createFileRenderContext, then runs the bare ffmpeg command
 * the renderer ran (same filter graph, same inputs: the scene stills and narration WAV it left in
 * its scratch directory, built by the exported buildVideoFfmpegArgs). The difference is the
 * renderer's own work: drawing the scenes, synthesising narration, the poster, ffprobe and the
 * copy into the output stream.
 *
 *   npx tsx bench/video-overhead.ts [runs=5]
 *
 * On a shared 2-core host the numbers move with whatever else runs; read the median.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveVideoSize } from '@kiln/shared';
import { videoRenderer } from '../packages/renderers/src/video/video-renderer.js';
import { planTimeline } from '../packages/renderers/src/video/scene-timeline.js';
import { buildVideoFfmpegArgs } from '../packages/renderers/src/video/video-ffmpeg-args.js';
import { probeMedia } from '../packages/renderers/src/media/probe-media.js';
import { createFileRenderContext } from '../packages/renderers/src/testing/file-render-context.js';

const run = promisify(execFile);
const runs = Number(process.argv[2] ?? 5);

const slide = (fill: string, text: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="1280" height="720" fill="${fill}"/>` +
  `<text x="80" y="380" font-size="72" fill="#fff">${text}</text></svg>`;

const input = videoRenderer.inputSchema.parse({
  resolution: '720p',
  fps: 30,
  scenes: [
    {
      visual: { type: 'card', card: { title: 'Quarterly results', subtitle: 'Q3 in ten seconds' } },
      durationMs: 3400,
      transition: 'fade',
      transitionMs: 600,
    },
    { visual: { type: 'svg', svg: slide('#1d4ed8', 'Revenue +12%') }, durationMs: 3300, transition: 'fade', transitionMs: 600 },
    {
      visual: { type: 'svg', svg: slide('#047857', 'Churn −3%') },
      durationMs: 3300,
      caption: 'Churn fell for the third quarter in a row.',
    },
  ],
  soundtrack: {
    type: 'narration',
    text: 'Quarterly results. Revenue grew twelve percent. Churn fell for the third quarter in a row.',
  },
});

/**
 * CPU seconds used by this process and its waited-for children (ffmpeg, espeak-ng), from
 * /proc/self/stat. Wall time on a shared 2-core host moves with whatever else runs; CPU time much
 * less, so both are printed.
 */
function cpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat, i.e. 11–14 after "pid (comm)".
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rendererMs: number[] = [];
const ffmpegMs: number[] = [];
const rendererCpu: number[] = [];
const ffmpegCpu: number[] = [];
let videoMs = 0;
// Run 0 warms up (module init, satori's wasm, fonts, the first espeak-ng/ffmpeg start from a cold
// page cache) and is not counted: a worker renders many jobs in one process.
for (let i = 0; i <= runs; i++) {
  const ctxRun = await createFileRenderContext();
  let t = performance.now();
  let c = cpuMs();
  const result = await videoRenderer.render(input, ctxRun.ctx);
  await ctxRun.settled();
  const renderer = performance.now() - t;
  const rendererCpuMs = cpuMs() - c;
  videoMs = result?.metadata?.primary?.durationMs ?? 0;

  // The same command on the same inputs, without the renderer around it.
  const { width, height } = resolveVideoSize(input.resolution);
  const tmp = ctxRun.ctx.tmpDir;
  const args = buildVideoFfmpegArgs({
    width,
    height,
    timeline: planTimeline(input.scenes, input.fps),
    sceneImages: input.scenes.map((_, k) => path.join(tmp, `scene-${String(k).padStart(3, '0')}.png`)),
    soundtrack: { path: path.join(tmp, 'narration.wav'), kind: 'narration', volume: 1, loop: false, fadeOut: false },
    format: input.format,
    quality: input.quality,
    outputPath: path.join(ctxRun.dir, 'bare.mp4'),
  });
  t = performance.now();
  c = cpuMs();
  await run('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 });
  const ffmpeg = performance.now() - t;
  const ffmpegCpuMs = cpuMs() - c;
  const bare = await probeMedia(path.join(ctxRun.dir, 'bare.mp4'));
  if (Math.abs((bare.durationMs ?? 0) - videoMs) > 34) throw new Error(`bare ffmpeg made ${bare.durationMs} ms, renderer ${videoMs} ms`);
  console.log(`${i === 0 ? 'warm-up' : `run ${i}`}: renderer ${renderer.toFixed(0)} ms (cpu ${rendererCpuMs.toFixed(0)}), bare ffmpeg ${ffmpeg.toFixed(0)} ms (cpu ${ffmpegCpuMs.toFixed(0)})`);
  if (i === 0) continue;
  rendererMs.push(renderer);
  ffmpegMs.push(ffmpeg);
  rendererCpu.push(rendererCpuMs);
  ffmpegCpu.push(ffmpegCpuMs);
}

const r = median(rendererMs);
const f = median(ffmpegMs);
console.log(`\nvideo: ${(videoMs / 1000).toFixed(2)} s, 1280×720 @ ${input.fps} fps, ${input.scenes.length} scenes, 2 crossfades, narration, quality "${input.quality}"`);
console.log(`median of ${runs} runs`);
console.log(`  renderer (in-process, all stages): ${r.toFixed(0)} ms  → ${(videoMs / r).toFixed(2)}× realtime`);
console.log(`  bare ffmpeg, same graph:           ${f.toFixed(0)} ms  → ${(videoMs / f).toFixed(2)}× realtime`);
console.log(`  ratio renderer / ffmpeg:           ${(r / f).toFixed(2)}  (overhead ${(r - f).toFixed(0)} ms)`);
const rc = median(rendererCpu);
const fc = median(ffmpegCpu);
console.log(`  CPU time: renderer ${rc.toFixed(0)} ms, bare ffmpeg ${fc.toFixed(0)} ms, ratio ${(rc / fc).toFixed(2)}`);
console.log(`  load average now: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores)`);
