import path from 'node:path';
import type { SpeechInput } from '@kiln/shared';
import { speechMeta } from './speech-meta.js';
import { defineRenderer, throwIfAborted } from '../contract.js';
import { FFMPEG_COMMON_ARGS, FFMPEG_PROGRESS_ARGS, ffmpegProgressParser } from '../media/ffmpeg-progress.js';
import { probeMedia } from '../media/probe-media.js';
import { runProcess } from '../media/run-process.js';
import { stageProgress } from '../media/stage-progress.js';
import { streamFileToOutput } from '../media/stream-file-to-output.js';
import { SPEECH_ENCODINGS } from './speech-formats.js';
import { checkVoice } from './espeak-voices.js';
import { synthesizeSpeech } from './synthesize-speech.js';
import { renderWaveformPreview } from './waveform-preview.js';

export const speechRenderer = defineRenderer<SpeechInput>({
  ...speechMeta,
  async preflight(input) {
    await checkVoice(input, ['input']);
  },
  async render(input, ctx) {
    const log = (line: string) => ctx.log(line);
    const wavPath = path.join(ctx.tmpDir, 'speech.wav');

    // espeak-ng reports nothing while it works; it is also the quick part (~1 s for the maximum
    // text), so its stage is a single step and ffmpeg's encode carries the measured progress.
    ctx.progress(0, 'synthesize');
    await synthesizeSpeech(input, { textPath: path.join(ctx.tmpDir, 'speech.txt'), wavPath }, { signal: ctx.signal, log });
    const spoken = await probeMedia(wavPath, { signal: ctx.signal, log });
    const spokenMs = spoken.durationMs ?? 0;

    const encoding = SPEECH_ENCODINGS[input.format];
    const encodedPath = path.join(ctx.tmpDir, `speech-encoded.${encoding.extension}`);
    const encodeProgress = stageProgress(ctx, 'encode', 0.2, 0.85);
    await runProcess(
      'ffmpeg',
      [...FFMPEG_COMMON_ARGS, ...FFMPEG_PROGRESS_ARGS, '-i', wavPath, '-map', '0:a:0', ...encoding.args, encodedPath],
      { signal: ctx.signal, log, onStdoutLine: ffmpegProgressParser(spokenMs, encodeProgress) },
    );

    ctx.progress(0.85, 'preview');
    const previewPath = path.join(ctx.tmpDir, 'waveform.png');
    const preview = await renderWaveformPreview(wavPath, previewPath, { signal: ctx.signal, log });
    const encoded = await probeMedia(encodedPath, { signal: ctx.signal, log });
    throwIfAborted(ctx.signal);

    ctx.progress(0.9, 'store');
    await streamFileToOutput(ctx, encodedPath, {
      role: 'primary',
      contentType: encoding.contentType,
      filename: `speech.${encoding.extension}`,
    });
    await streamFileToOutput(ctx, previewPath, { role: 'preview', contentType: 'image/png', filename: 'speech-waveform.png' });
    ctx.progress(1, 'store');

    const audio = encoded.streams.find((s) => s.codecType === 'audio');
    return {
      metadata: {
        primary: {
          format: input.format,
          durationMs: encoded.durationMs ?? spokenMs,
          sampleRate: audio?.sampleRate ?? encoding.sampleRate,
          channels: audio?.channels ?? 1,
          codec: audio?.codecName,
          voice: input.variant ? `${input.voice}+${input.variant}` : input.voice,
        },
        preview: { ...preview, format: 'png', durationMs: spokenMs },
      },
    };
  },
});
