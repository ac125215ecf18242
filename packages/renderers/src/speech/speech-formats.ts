import type { SpeechFormat } from '@kiln/shared';

export interface SpeechEncoding {
  contentType: string;
  extension: string;
  sampleRate: number;
  /** ffmpeg output arguments (codec, rate, container). */
  args: string[];
}

/**
 * espeak-ng speaks at 22,050 Hz mono, so that rate is kept wherever the codec allows: resampling
 * up adds bytes, not quality. Opus only runs at 8/12/16/24/48 kHz and its decoders play at 48 kHz
 * anyway. Bitrates are for a single synthetic voice, well below music settings.
 */
export const SPEECH_ENCODINGS: Record<SpeechFormat, SpeechEncoding> = {
  wav: {
    contentType: 'audio/wav',
    extension: 'wav',
    sampleRate: 22050,
    args: ['-c:a', 'pcm_s16le', '-ar', '22050', '-f', 'wav'],
  },
  mp3: {
    contentType: 'audio/mpeg',
    extension: 'mp3',
    sampleRate: 22050,
    args: ['-c:a', 'libmp3lame', '-b:a', '64k', '-ar', '22050', '-f', 'mp3'],
  },
  opus: {
    contentType: 'audio/ogg; codecs=opus',
    extension: 'opus',
    sampleRate: 48000,
    args: ['-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-ar', '48000', '-f', 'ogg'],
  },
  aac: {
    contentType: 'audio/mp4',
    extension: 'm4a',
    sampleRate: 22050,
    args: ['-c:a', 'aac', '-b:a', '64k', '-ar', '22050', '-movflags', '+faststart', '-f', 'mp4'],
  },
};
