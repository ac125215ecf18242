/**
 * Turns ffmpeg's `-progress pipe:1` key=value lines into a fraction of the known output duration.
 * ffmpeg reports `out_time_us` (and, despite its name, `out_time_ms` also in microseconds) for
 * the last muxed packet, so this is real progress through the encode, not an estimate from a clock.
 */
export function ffmpegProgressParser(totalMs: number, onFraction: (fraction: number) => void): (line: string) => void {
  const totalUs = Math.max(1, totalMs * 1000);
  return (line) => {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'out_time_us' || key === 'out_time_ms') {
      const us = Number(value);
      if (Number.isFinite(us) && us >= 0) onFraction(Math.min(1, us / totalUs));
    } else if (key === 'progress' && value === 'end') {
      onFraction(1);
    }
  };
}

/** The arguments that make ffmpeg quiet on stderr (errors only) and report progress on stdout. */
export const FFMPEG_COMMON_ARGS = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'] as const;
export const FFMPEG_PROGRESS_ARGS = ['-progress', 'pipe:1', '-nostats'] as const;
