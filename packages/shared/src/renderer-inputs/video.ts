import { z } from 'zod';
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

const assetId = z.string().min(1).max(200);

/**
 * A scene's picture. `card` and `chart` are inputs of the `image` renderer's card mode and of the
 * `chart` renderer; they are checked against those renderers' own schemas when the job is
 * submitted, and rendered to fit the frame (their `format`/size fields are set by the video).
 */
export const videoSceneVisualSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset'), assetId }).strict(),
  z.object({ type: z.literal('svg'), svg: z.string().min(1).max(MAX_SVG_CHARS) }).strict(),
  z.object({ type: z.literal('card'), card: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ type: z.literal('chart'), chart: z.record(z.string(), z.unknown()) }).strict(),
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
    visual: videoSceneVisualSchema,
    durationMs: z.number().int().min(100).max(120_000).default(3000),
    /** Burnt into the bottom of the frame with the shipped font; wraps to fit. */
    caption: z.string().min(1).max(500).optional(),
    /** `contain` letterboxes on `background`; `cover` fills the frame and crops. */
    fit: z.enum(['contain', 'cover']).default('contain'),
    transition: z.enum(VIDEO_TRANSITIONS).default('cut'),
    transitionMs: z.number().int().min(40).max(5000).default(500),
  })
  .strict();

export const videoSoundtrackSchema = z.discriminatedUnion('type', [
  /** Text spoken over the video with espeak-ng, as the `speech` renderer does. */
  speechVoiceSchema.extend({ type: z.literal('narration') }).strict(),
  /** An earlier audio (or video) asset of the same company; its first audio stream is used. */
  z
    .object({
      type: z.literal('asset'),
      assetId,
      volume: z.number().min(0).max(2).default(1),
      /** Repeat the audio until the video ends (otherwise it plays once, then silence). */
      loop: z.boolean().default(false),
    })
    .strict(),
]);

/**
 * `video`: an MP4 (H.264 + AAC) or WebM (VP9 + Opus) from a list of still scenes. A soundtrack
 * longer than the video is cut at the video's end (faded when it is music).
 */
export const videoInputSchema = z
  .object({
    resolution: z
      .union([z.enum(Object.keys(VIDEO_RESOLUTION_PRESETS) as [VideoResolutionPreset, ...VideoResolutionPreset[]]), z.object({ width: evenDimension, height: evenDimension }).strict()])
      .default('720p'),
    fps: z.number().int().min(1).max(60).default(30),
    format: z.enum(VIDEO_FORMATS).default('mp4'),
    /** Encoder effort: `draft` is fastest and largest, `high` slowest and smallest for its quality. */
    quality: z.enum(VIDEO_QUALITIES).default('standard'),
    /** Fills letterboxed areas and shows through transparent pictures. */
    background: z
      .string()
      .regex(/^#[0-9a-f]{6}$/i, 'a colour as #rrggbb')
      .default('#000000'),
    scenes: z.array(videoSceneSchema).min(1).max(MAX_VIDEO_SCENES),
    soundtrack: videoSoundtrackSchema.optional(),
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
