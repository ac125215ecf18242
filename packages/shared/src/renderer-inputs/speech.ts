import { z } from 'zod';
import { about } from './about.js';

export const SPEECH_FORMATS = ['wav', 'mp3', 'opus', 'aac'] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

/**
 * Longest text one job speaks. 20,000 characters is about 20 minutes of speech; espeak-ng
 * synthesises that in about a second and the WAV it writes to scratch space stays under 60 MB.
 */
export const MAX_SPEECH_TEXT_CHARS = 20_000;

/**
 * What espeak-ng needs to speak: shared by `speech` and by a `video`'s narration soundtrack.
 * `voice` is an espeak-ng language/voice name (`espeak-ng --voices` lists them: `en-us`, `en-gb`,
 * `de`, `fr-fr`, `cmn` …); `variant` an espeak-ng variant (`f3`, `m1`, `klatt`, `whisper` …).
 * The patterns keep both to plain names, so neither can smuggle a path or an option.
 */
export const speechVoiceSchema = z.object({
  text: about(
    z
      .string()
      .min(1)
      .max(MAX_SPEECH_TEXT_CHARS)
      .refine((t) => t.trim().length > 0, 'text must contain something to say'),
    'Text',
    `What to say (at most ${MAX_SPEECH_TEXT_CHARS.toLocaleString('en')} characters, about 20 minutes). Spoken literally: markup is read out, not interpreted.`,
  ),
  voice: about(
    z
      .string()
      .regex(/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i, 'an espeak-ng voice name such as en-us, de or fr-fr')
      .default('en-us'),
    'Voice',
    'An espeak-ng voice (language) name: en-us, en-gb, de, fr-fr, es, cmn …',
  ),
  variant: about(
    z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/i, 'an espeak-ng variant name such as f3, m1 or klatt')
      .optional(),
    'Variant',
    'An espeak-ng voice variant: f1–f5 (female), m1–m7 (male), klatt, whisper …',
  ),
  rate: about(z.number().int().min(80).max(450).default(175), 'Rate', 'Speaking rate in words per minute (80–450; espeak-ng’s default is 175).'),
  pitch: about(z.number().int().min(0).max(99).default(50), 'Pitch', 'Pitch from 0 (low) to 99 (high); 50 is the voice’s normal pitch.'),
});

/** `speech`: text → audio, synthesised offline with espeak-ng and encoded with ffmpeg. */
export const speechInputSchema = speechVoiceSchema
  .extend({
    format: about(z.enum(SPEECH_FORMATS).default('mp3'), 'Format', 'wav, mp3, opus (in Ogg) or aac (in an MP4 .m4a container).'),
  })
  .strict();

export type SpeechVoiceInput = z.infer<typeof speechVoiceSchema>;
export type SpeechInput = z.infer<typeof speechInputSchema>;
