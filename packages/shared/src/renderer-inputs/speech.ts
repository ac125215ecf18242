import { z } from 'zod';

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
  text: z
    .string()
    .min(1)
    .max(MAX_SPEECH_TEXT_CHARS)
    .refine((t) => t.trim().length > 0, 'text must contain something to say'),
  voice: z
    .string()
    .regex(/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i, 'an espeak-ng voice name such as en-us, de or fr-fr')
    .default('en-us'),
  variant: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/i, 'an espeak-ng variant name such as f3, m1 or klatt')
    .optional(),
  /** Speaking rate in words per minute (espeak-ng's default is 175). */
  rate: z.number().int().min(80).max(450).default(175),
  /** Pitch, 0 (low) to 99 (high); 50 is the voice's normal pitch. */
  pitch: z.number().int().min(0).max(99).default(50),
});

/** `speech`: text → audio, synthesised offline with espeak-ng and encoded with ffmpeg. */
export const speechInputSchema = speechVoiceSchema
  .extend({
    /** `aac` is delivered in an MP4 (`.m4a`) container, `opus` in Ogg. */
    format: z.enum(SPEECH_FORMATS).default('mp3'),
  })
  .strict();

export type SpeechVoiceInput = z.infer<typeof speechVoiceSchema>;
export type SpeechInput = z.infer<typeof speechInputSchema>;
