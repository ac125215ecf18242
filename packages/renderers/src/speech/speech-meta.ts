import { MAX_SPEECH_TEXT_CHARS, speechInputSchema, type SpeechInput } from '@kiln/shared';
import type { RendererMeta } from '../lazy-renderer.js';

/** What the `speech` kind is, without what it takes to render it (loaded only when a render needs it). */
export const speechMeta: RendererMeta<SpeechInput> = {
  kind: 'speech',
  description:
    `Speech audio (WAV, MP3, Opus or AAC) from up to ${MAX_SPEECH_TEXT_CHARS.toLocaleString('en')} characters of text, ` +
    'synthesised offline with espeak-ng, with a PNG waveform preview.',
  inputSchema: speechInputSchema,
  example: {
    text: 'Your report is ready. Revenue grew twelve percent this quarter.',
    voice: 'en-us',
    rate: 175,
    pitch: 50,
    format: 'mp3',
  },
};
