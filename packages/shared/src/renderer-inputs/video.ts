import { z } from 'zod';
import { about } from './about.js';
import { imageCardFieldsSchema } from './image.js';
import { chartInputSchema } from './chart.js';
import { MAX_SVG_CHARS } from './image.js';
import { speechVoiceSchema } from './speech.js';

export const VIDEO_RESOLUTION_PRESETS = {
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
  square: { width: 1080, height: 1080 },
  vertical: { width: 1080, height: 1920 },
} as const;
export type VideoResolutionPreset = keyof typeof VIDEO_RESOLUTION_PRESETS;

export const VIDEO_FORMATS = ['mp4', 'webm'] as const;
export const VIDEO_TRANSITIONS = ['cut', 'fade', 'slide'] as const;
export const VIDEO_QUALITIES = ['draft', 'standard', 'high'] as const;

/** The longest video one job renders; longer ones belong in an editor, not a queue of stills. */
export const MAX_VIDEO_DURATION_MS = 10 * 60 * 1000;
export const MAX_VIDEO_SCENES = 100;
/**
 * The most pixels one video may encode: width × height × fps × seconds of 1080p at 30 fps for
 * ten minutes (3.7e10). A 3840×2160 60 fps video may therefore last 75 s, a 720p30 one 22 min
 * (but MAX_VIDEO_DURATION_MS caps it at 10).
 */
export const MAX_VIDEO_PIXEL_RATE_TOTAL = 1920 * 1080 * 30 * 600;

// H.264 and VP9 in 4:2:0 need even dimensions.
const evenDimension = z
  .number()
  .int()
  .min(16)
  .max(3840)
  .refine((n) => n % 2 === 0, 'must be even (4:2:0 video needs even dimensions)');

const assetIdOf = (what: string) => about(z.string().min(1).max(200), 'Asset', `An asset of your company (uploaded or made by a job): ${what}.`);

/** The card and chart a scene may show: the `image` kind's card fields and the `chart` kind's input, one definition each. */
export const videoSceneCardSchema = imageCardFieldsSchema.meta({
  id: 'ImageCardFields',
  title: 'Card',
  description: "A title card, as the image kind's card mode takes it (without mode and format); laid out for the video's frame unless it has a size.",
});
export const videoSceneChartSchema = chartInputSchema.meta({
  id: 'ChartInputFields',
  title: 'Chart',
  description: "A chart, as the chart kind takes it; drawn as PNG and sized for the frame when its spec leaves the size open.",
});

/**
 * A scene's picture: an image (or SVG) asset, inline SVG, a title card or a chart. Cards and
 * charts are checked against their own kinds' schemas and checks when the job is submitted.
 */
export const videoSceneVisualSchema = z.discriminatedUnion('type', [
  z.object({ type: about(z.literal('asset'), 'Type', 'An image asset.'), assetId: assetIdOf('an image or SVG, fitted to the frame') }).strict().meta({ title: 'Image asset' }),
  z
    .object({
      type: about(z.literal('svg'), 'Type', 'Inline SVG.'),
      svg: about(z.string().min(1).max(MAX_SVG_CHARS), 'SVG', 'SVG markup, drawn at the frame width with the same caps as the image kind.'),
    })
    .strict()
    .meta({ title: 'SVG' }),
  z.object({ type: about(z.literal('card'), 'Type', 'A title card.'), card: videoSceneCardSchema }).strict().meta({ title: 'Card' }),
  z.object({ type: about(z.literal('chart'), 'Type', 'A chart.'), chart: videoSceneChartSchema }).strict().meta({ title: 'Chart' }),
]);

/**
 * One scene. Scenes follow each other back to back: scene N starts at the sum of the durations
 * before it, and the video lasts exactly the sum of all durations. A transition into the next
 * scene starts when this scene's time is up and plays over the first `transitionMs` of the next
 * scene's time (this scene stays on screen underneath meanwhile), so transitions never change the
 * total length. The last scene's transition is ignored.
 */
export const videoSceneSchema = z
  .object({
    visual: about(videoSceneVisualSchema, 'Picture', 'What the scene shows: an image asset, SVG, a card or a chart.'),
    durationMs: about(z.number().int().min(100).max(120_000).default(3000), 'Duration', 'How long the scene lasts, in milliseconds (100–120,000).'),
    caption: about(z.string().min(1).max(500).optional(), 'Caption', 'Text burnt into the bottom of the frame with the shipped font; wraps to fit.'),
    fit: about(z.enum(['contain', 'cover']).default('contain'), 'Fit', 'contain: letterbox on the background colour; cover: fill the frame and crop.'),
    transition: about(
      z.enum(VIDEO_TRANSITIONS).default('cut'),
      'Transition',
      'Into the next scene: cut, fade or slide; it plays over the start of the next scene, so the length does not change.',
    ),
    transitionMs: about(z.number().int().min(40).max(5000).default(500), 'Transition length', 'Milliseconds (40–5000); at most the next scene’s duration.'),
  })
  .strict()
  .meta({ title: 'Scene' });

export const videoSoundtrackSchema = z.discriminatedUnion('type', [
  /** Text spoken over the video with espeak-ng, as the `speech` renderer does. */
  speechVoiceSchema
    .extend({ type: about(z.literal('narration'), 'Type', 'Text spoken over the video with espeak-ng.') })
    .strict()
    .meta({ title: 'Narration' }),
  /** An earlier audio (or video) asset of the same company; its first audio stream is used. */
  z
    .object({
      type: about(z.literal('asset'), 'Type', 'An audio (or video) asset; its first audio stream is used.'),
      assetId: assetIdOf('audio or video'),
      volume: about(z.number().min(0).max(2).default(1), 'Volume', '0 (silent) to 2 (double); 1 as recorded.'),
      loop: about(z.boolean().default(false), 'Loop', 'Repeat the audio until the video ends (otherwise it plays once, then silence).'),
    })
    .strict()
    .meta({ title: 'Audio asset' }),
]);

/**
 * `video`: an MP4 (H.264 + AAC) or WebM (VP9 + Opus) from a list of still scenes. A soundtrack
 * longer than the video is cut at the video's end (faded when it is music).
 */
export const videoInputSchema = z
  .object({
    resolution: about(
      z
        .union([
          about(
            z.enum(Object.keys(VIDEO_RESOLUTION_PRESETS) as [VideoResolutionPreset, ...VideoResolutionPreset[]]),
            'Preset',
            '720p (1280×720), 1080p (1920×1080), square (1080×1080) or vertical (1080×1920).',
          ),
          z
            .object({
              width: about(evenDimension, 'Width', 'Frame width in pixels (16–3840, even).'),
              height: about(evenDimension, 'Height', 'Frame height in pixels (16–3840, even).'),
            })
            .strict()
            .meta({ title: 'Custom size' }),
        ])
        .default('720p'),
      'Resolution',
      'A preset or {width, height}. With fps and the length, at most 1080p at 30 fps for 10 minutes of pixels.',
    ),
    fps: about(z.number().int().min(1).max(60).default(30), 'Frame rate', 'Frames per second (1–60).'),
    format: about(z.enum(VIDEO_FORMATS).default('mp4'), 'Format', 'mp4 (H.264 + AAC, plays everywhere) or webm (VP9 + Opus).'),
    quality: about(
      z.enum(VIDEO_QUALITIES).default('standard'),
      'Quality',
      'Encoder effort: draft is fastest and largest, high slowest and smallest for its quality.',
    ),
    background: about(
      z
        .string()
        .regex(/^#[0-9a-f]{6}$/i, 'a colour as #rrggbb')
        .default('#000000'),
      'Background',
      'Fills letterboxed areas and shows through transparent pictures (#rrggbb).',
    ),
    scenes: about(
      z.array(videoSceneSchema).min(1).max(MAX_VIDEO_SCENES),
      'Scenes',
      `1–${MAX_VIDEO_SCENES} scenes, shown one after another; the video lasts the sum of their durations (at most ${MAX_VIDEO_DURATION_MS / 60000} minutes).`,
    ),
    soundtrack: about(videoSoundtrackSchema.optional(), 'Soundtrack', 'Narration (text spoken by espeak-ng) or an audio asset; cut at the video’s end.'),
  })
  .strict()
  .superRefine((input, issue) => {
    const total = input.scenes.reduce((sum, s) => sum + s.durationMs, 0);
    if (total > MAX_VIDEO_DURATION_MS) {
      issue.addIssue({
        code: 'custom', path: ['scenes'], message: `scenes last ${total} ms; at most ${MAX_VIDEO_DURATION_MS} ms`,
        params: { limit: MAX_VIDEO_DURATION_MS, actual: total },
      });
    }
    const { width, height } = resolveVideoSize(input.resolution);
    const pixels = width * height * input.fps * (total / 1000);
    if (pixels > MAX_VIDEO_PIXEL_RATE_TOTAL) {
      issue.addIssue({
        code: 'custom',
        path: ['resolution'],
        message:
          `${width}×${height} at ${input.fps} fps for ${total / 1000} s is ${pixels.toExponential(2)} pixels to encode; ` +
          `at most ${MAX_VIDEO_PIXEL_RATE_TOTAL.toExponential(2)} (1080p at 30 fps for 10 minutes). Lower the resolution, fps or duration.`,
        params: { limit: MAX_VIDEO_PIXEL_RATE_TOTAL, actual: Math.round(pixels) },
      });
    }
    input.scenes.forEach((scene, i) => {
      if (scene.durationMs * input.fps < 1000) {
        issue.addIssue({ code: 'custom', path: ['scenes', i, 'durationMs'], message: `shorter than one frame at ${input.fps} fps` });
      }
      const next = input.scenes[i + 1];
      if (next && scene.transition !== 'cut' && scene.transitionMs > next.durationMs) {
        issue.addIssue({
          code: 'custom',
          path: ['scenes', i, 'transitionMs'],
          message: 'a transition plays over the next scene and may not last longer than it',
        });
      }
    });
  });

export type VideoSceneVisual = z.infer<typeof videoSceneVisualSchema>;
export type VideoScene = z.infer<typeof videoSceneSchema>;
export type VideoSoundtrack = z.infer<typeof videoSoundtrackSchema>;
export type VideoInput = z.infer<typeof videoInputSchema>;

/** The frame size a `resolution` stands for. */
export function resolveVideoSize(resolution: VideoInput['resolution']): { width: number; height: number } {
  return typeof resolution === 'string' ? { ...VIDEO_RESOLUTION_PRESETS[resolution] } : { ...resolution };
}
