import { z } from 'zod';

export const IMAGE_FORMATS = ['png', 'webp', 'jpeg', 'avif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** `#rgb`, `#rrggbb` or `#rrggbbaa`: hex only, so a colour can never smuggle CSS into a layout. */
export const hexColorSchema = z
  .string()
  .regex(/^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i, 'Use a hex colour such as #0f172a.');

/** `image` in `svg` mode: the caller supplies SVG markup; nothing it references is fetched. */
export const imageSvgInputSchema = z
  .object({
    // Optional so that inputs written before `card` existed keep meaning `svg`.
    mode: z.literal('svg').default('svg'),
    svg: z.string().min(1).max(2_000_000),
    format: z.enum(IMAGE_FORMATS).default('png'),
    width: z.number().int().min(1).max(8192).optional(),
  })
  .strict();

/** Named canvas sizes: Open Graph / link previews, square posts, full-screen stories. */
export const CARD_SIZE_PRESETS = {
  og: { width: 1200, height: 630 },
  square: { width: 1080, height: 1080 },
  story: { width: 1080, height: 1920 },
} as const;
export type CardSizePreset = keyof typeof CARD_SIZE_PRESETS;

export const DEFAULT_CARD_THEME = { background: '#0f172a', text: '#f8fafc', accent: '#38bdf8' } as const;

/**
 * `image` in `card` mode: a title card laid out by Kiln. Text wraps and shrinks to fit the canvas;
 * if it cannot fit even at the smallest size, the job fails rather than cutting text off.
 */
export const imageCardInputSchema = z
  .object({
    mode: z.literal('card'),
    title: z.string().trim().min(1).max(200),
    subtitle: z.string().trim().max(300).optional(),
    body: z.string().trim().max(2000).optional(),
    /** A preset name, or an explicit canvas in pixels. */
    size: z
      .union([
        z.enum(Object.keys(CARD_SIZE_PRESETS) as [CardSizePreset, ...CardSizePreset[]]),
        z
          .object({ width: z.number().int().min(64).max(4096), height: z.number().int().min(64).max(4096) })
          .strict(),
      ])
      .default('og'),
    theme: z
      .object({
        background: hexColorSchema.default(DEFAULT_CARD_THEME.background),
        text: hexColorSchema.default(DEFAULT_CARD_THEME.text),
        accent: hexColorSchema.default(DEFAULT_CARD_THEME.accent),
      })
      .strict()
      .default({ ...DEFAULT_CARD_THEME }),
    align: z.enum(['left', 'center']).default('left'),
    /** An image asset of the same company, drawn in the top corner. */
    logoAssetId: z.string().uuid().optional(),
    /** An image asset of the same company, cropped to cover the canvas. */
    backgroundAssetId: z.string().uuid().optional(),
    /** Opacity of the theme background laid over a background image, so text stays legible. */
    backgroundOverlay: z.number().min(0).max(1).default(0.55),
    format: z.enum(IMAGE_FORMATS).default('png'),
  })
  .strict();

export const imageInputSchema = z.discriminatedUnion('mode', [imageSvgInputSchema, imageCardInputSchema]);
export type ImageInput = z.infer<typeof imageInputSchema>;
export type ImageSvgInput = z.infer<typeof imageSvgInputSchema>;
export type ImageCardInput = z.infer<typeof imageCardInputSchema>;
