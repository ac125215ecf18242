import { FFMPEG_COMMON_ARGS } from '../media/ffmpeg-progress.js';
import { runProcess } from '../media/run-process.js';

export const WAVEFORM_SIZE = { width: 800, height: 200 } as const;

/**
 * Draws the whole recording as one PNG with ffmpeg's showwavespic. A square-root scale, because
 * speech on a linear scale is a thin line with a few peaks; a white background, because a
 * transparent waveform vanishes on dark pages.
 */
export async function renderWaveformPreview(
  audioPath: string,
  pngPath: string,
  options: { signal: AbortSignal; log?: (line: string) => void; color?: string },
): Promise<{ width: number; height: number }> {
  const { width, height } = WAVEFORM_SIZE;
  const color = (options.color ?? '#1d4ed8').replace('#', '0x');
  const graph =
    `color=c=white:s=${width}x${height}[bg];` +
    `[0:a]aformat=channel_layouts=mono,showwavespic=s=${width}x${height}:colors=${color}:scale=sqrt:draw=full[wave];` +
    `[bg][wave]overlay=format=auto,format=rgb24[out]`;
  await runProcess(
    'ffmpeg',
    [...FFMPEG_COMMON_ARGS, '-i', audioPath, '-filter_complex', graph, '-map', '[out]', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', pngPath],
    options,
  );
  return { width, height };
}
