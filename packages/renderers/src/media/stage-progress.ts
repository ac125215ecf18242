import type { RenderContext } from '../contract.js';

/**
 * Maps a stage's own 0..1 progress into its slice of the job's overall progress, and drops
 * updates smaller than one percent: each report may become a database write and an SSE event,
 * and ffmpeg reports twice a second for as long as it runs.
 */
export function stageProgress(ctx: Pick<RenderContext, 'progress'>, stage: string, from: number, to: number) {
  let last = -1;
  const report = (fraction: number) => {
    const overall = from + (to - from) * Math.min(1, Math.max(0, fraction));
    if (overall - last < 0.01 && fraction < 1) return;
    last = overall;
    ctx.progress(Math.round(overall * 1000) / 1000, stage);
  };
  report(0);
  return report;
}
