import { z } from 'zod';
import { MAX_RASTER_PIXELS, MAX_RASTER_SIDE } from '../limits.js';
import { about } from './about.js';

/**
 * Inputs of the provider kinds (`ai-image`, `ai-speech`, `ai-video`): content made by a remote
 * model API the operator configured (KILN_PROVIDERS). The server narrows `provider` to the names
 * configured for each kind; everything else is the same wherever Kiln runs.
 */

/** Longest prompt sent to an image or video model (OpenAI's image models take up to 32,000). */
export const MAX_AI_PROMPT_CHARS = 32_000;
/** Images one `ai-image` job asks for: each is paid for, and each becomes a primary output. */
export const MAX_AI_IMAGES = 4;
/** Longest text one `ai-speech` job speaks (OpenAI's speech endpoint takes 4,096 characters). */
export const MAX_AI_SPEECH_TEXT_CHARS = 4096;
/** Longest clip one `ai-video` job asks for, in seconds. */
export const MAX_AI_VIDEO_SECONDS = 60;

export const AI_IMAGE_FORMATS = ['png', 'jpeg', 'webp'] as const;
export const AI_SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav'] as const;
export type AiImageFormat = (typeof AI_IMAGE_FORMATS)[number];
export type AiSpeechFormat = (typeof AI_SPEECH_FORMATS)[number];

/** A provider's name in KILN_PROVIDERS: letters, digits, `-` and `_`. */
export const PROVIDER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

const providerField = about(
  z.string().regex(PROVIDER_NAME_PATTERN, 'a provider name from KILN_PROVIDERS').optional(),
  'Provider',
  'Which configured model provider runs the job (default: the first one configured for this kind).',
);
const modelField = about(
  z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, 'a model name such as gpt-image-1').optional(),
  'Model',
  "The provider's model name (default: the one configured for this provider and kind, else the provider's own default).",
);

/** `WIDTHxHEIGHT` within the raster caps every renderer has. */
const sizeField = (what: string) =>
  about(
    z
      .string()
      .regex(/^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$/, 'WIDTHxHEIGHT in pixels, e.g. 1024x1024')
      .superRefine((size, ctx) => {
        const [w, h] = size.split('x').map(Number) as [number, number];
        if (Math.max(w, h) > MAX_RASTER_SIDE) {
          ctx.addIssue({ code: 'custom', message: `a side is longer than ${MAX_RASTER_SIDE} px`, params: { limit: MAX_RASTER_SIDE, actual: Math.max(w, h) } });
        } else if (w * h > MAX_RASTER_PIXELS) {
          ctx.addIssue({ code: 'custom', message: `more than ${MAX_RASTER_PIXELS / 1e6} megapixels`, params: { limit: MAX_RASTER_PIXELS, actual: w * h } });
        }
      })
      .optional(),
    'Size',
    `${what} as WIDTHxHEIGHT in pixels (e.g. 1024x1024); which sizes exist depends on the model. Default: the model's own.`,
  );

const promptField = (what: string) =>
  about(
    z
      .string()
      .min(1)
      .max(MAX_AI_PROMPT_CHARS)
      .refine((t) => t.trim().length > 0, 'the prompt must say something'),
    'Prompt',
    `${what} (at most ${MAX_AI_PROMPT_CHARS.toLocaleString('en')} characters; models may accept less).`,
  );

/** `ai-image`: a prompt → up to four images from an image model, each a primary output with a preview. */
export const aiImageInputSchema = z
  .object({
    prompt: promptField('What the image should show'),
    size: sizeField('The image size'),
    n: about(z.number().int().min(1).max(MAX_AI_IMAGES).default(1), 'Images', `How many images to make (1–${MAX_AI_IMAGES}); each is a primary output, and each is paid for.`),
    format: about(z.enum(AI_IMAGE_FORMATS).default('png'), 'Format', 'png, jpeg or webp. Anything but png is asked for as output_format (not every model takes it); an image answered in another format is kept as it came, with a warning.'),
    model: modelField,
    provider: providerField,
  })
  .strict();

/** `ai-speech`: text → speech audio from a text-to-speech model. */
export const aiSpeechInputSchema = z
  .object({
    text: about(
      z
        .string()
        .min(1)
        .max(MAX_AI_SPEECH_TEXT_CHARS)
        .refine((t) => t.trim().length > 0, 'text must contain something to say'),
      'Text',
      `What to say (at most ${MAX_AI_SPEECH_TEXT_CHARS.toLocaleString('en')} characters).`,
    ),
    voice: about(
      z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a voice name such as alloy').default('alloy'),
      'Voice',
      "The model's voice name (OpenAI: alloy, ash, coral, echo, fable, nova, onyx, sage, shimmer …).",
    ),
    format: about(z.enum(AI_SPEECH_FORMATS).default('mp3'), 'Format', 'mp3, opus (in Ogg), aac, flac or wav.'),
    model: modelField,
    provider: providerField,
  })
  .strict();

/** `ai-video`: a prompt (and optionally a reference image) → an MP4 clip from a video model. */
export const aiVideoInputSchema = z
  .object({
    prompt: promptField('What the clip should show'),
    seconds: about(
      z.number().int().min(1).max(MAX_AI_VIDEO_SECONDS).default(4),
      'Seconds',
      `Length of the clip (1–${MAX_AI_VIDEO_SECONDS}); which lengths exist depends on the model (Sora: 4, 8 or 12).`,
    ),
    size: sizeField('The frame size'),
    imageAssetId: about(
      z.string().min(1).max(200).optional(),
      'Reference image',
      'An image asset of your company (PNG, JPEG or WebP, uploaded or made by a job) the clip starts from; usually it must match the size.',
    ),
    model: modelField,
    provider: providerField,
  })
  .strict();

export type AiImageInput = z.infer<typeof aiImageInputSchema>;
export type AiSpeechInput = z.infer<typeof aiSpeechInputSchema>;
export type AiVideoInput = z.infer<typeof aiVideoInputSchema>;
