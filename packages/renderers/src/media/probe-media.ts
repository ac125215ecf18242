import { RenderError } from '../contract.js';
import { runProcess } from './run-process.js';

export interface MediaStream {
  codecType: 'video' | 'audio' | string;
  codecName: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** Average frame rate of a video stream. */
  fps?: number;
}

export interface MediaInfo {
  formatName: string;
  /** The container's duration; undefined when the file does not say (a single image). */
  durationMs?: number;
  streams: MediaStream[];
}

/** Reads container and stream facts with ffprobe (used for metadata, soundtrack checks and tests). */
export async function probeMedia(file: string, options: { signal?: AbortSignal; log?: (line: string) => void } = {}): Promise<MediaInfo> {
  const lines: string[] = [];
  await runProcess(
    'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', file],
    {
      signal: options.signal ?? new AbortController().signal,
      log: options.log,
      onStdoutLine: (line) => lines.push(line),
      describeFailure: ({ stderr }) =>
        new RenderError('validation_failed', `Not a readable media file: ${stderr.trim().split('\n').at(-1) ?? ''}`),
    },
  );
  const raw = JSON.parse(lines.join('\n')) as {
    format?: { format_name?: string; duration?: string };
    streams?: {
      codec_type?: string;
      codec_name?: string;
      width?: number;
      height?: number;
      sample_rate?: string;
      channels?: number;
      avg_frame_rate?: string;
    }[];
  };
  const duration = Number(raw.format?.duration);
  return {
    formatName: raw.format?.format_name ?? 'unknown',
    durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : undefined,
    streams: (raw.streams ?? []).map((s) => ({
      codecType: s.codec_type ?? 'unknown',
      codecName: s.codec_name ?? 'unknown',
      width: s.width,
      height: s.height,
      sampleRate: s.sample_rate ? Number(s.sample_rate) : undefined,
      channels: s.channels,
      fps: parseRate(s.avg_frame_rate),
    })),
  };
}

function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [num, den] = rate.split('/').map(Number);
  if (!num || !den) return undefined;
  return num / den;
}
