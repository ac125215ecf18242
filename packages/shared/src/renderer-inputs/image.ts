import { z } from 'zod';
import { MAX_RASTER_PIXELS, MAX_RASTER_SIDE } from '../limits.js';
import { about } from './about.js';

export const IMAGE_FORMATS = ['png', 'webp', 'jpeg', 'avif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** `#rgb`, `#rrggbb` or `#rrggbbaa`: hex only, so a colour can never smuggle CSS into a layout. */
export const hexColorSchema = z
  .string()
  .regex(/^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i, 'Use a hex colour such as #0f172a.');

/*
 * Caps on SVG input, checked when a job is submitted (and again before drawing). resvg allocates
 * and works in proportion to what an SVG *describes*, not to its length: a few hundred bytes can
 * ask for a 100000×100000 canvas, 2^29 elements through nested <use>, or a blur over gigapixels.
 * Each cap bounds one way cost multiplies, measured against the resvg build Kiln ships
 * (@resvg/resvg-js 2.6.2, resvg 0.35). A refusal names the cap, the limit and the actual value.
 */

/** Characters of SVG markup in one input (the request body stays reasonable; nothing more). */
export const MAX_SVG_CHARS = 2_000_000;
// The raster an SVG is drawn onto is capped like every raster (MAX_RASTER_SIDE, MAX_RASTER_PIXELS in limits.ts).
/**
 * Elements after every `<use>` is expanded (and, when drawn, after markers, patterns, clip paths
 * and masks are instantiated each time they are used). Real documents, charts and exported
 * illustrations stay in the tens of thousands; resvg itself gives up at 1,000,000, after seconds of
 * work and hundreds of MB.
 */
export const MAX_SVG_ELEMENTS = 200_000;
/** Nesting depth of elements, `<use>` expansion included (resvg refuses past 1,024). */
export const MAX_SVG_DEPTH = 256;
/**
 * Filter work: for every filter primitive applied, the pixels of its filter region (which resvg
 * does not clip to the canvas) times a weight for its cost per pixel: 2 for cheap ones such as
 * feFlood, 18 for a blur (36 below 2 px of deviation), more for feTurbulence octaves,
 * feConvolveMatrix kernels and feMorphology radii. Elements reached through `<use>` count each
 * time. One blur over a whole 3000×3000 canvas is about 233 million (its default region is 1.2×
 * each way); at the cap resvg works for about 3 to 8 seconds on a 2-core machine.
 */
export const MAX_SVG_FILTER_WORK = 300_000_000;
/**
 * Pixels of the off-screen layers resvg allocates while drawing: one per group with opacity, a
 * clip path, a mask, a filter or a blend mode (clip paths and masks add their own), one per
 * pattern tile and per embedded SVG image. A layer can be up to 16× the canvas, so this also
 * bounds memory (4 bytes a pixel).
 */
export const MAX_SVG_LAYER_PIXELS = 300_000_000;
/**
 * Characters of text drawn (each `<use>` copy counts). resvg shapes and outlines every glyph with
 * the shipped fonts, and its time grows faster than the text: 40,000 characters took about 2 s
 * here, 80,000 took 27 s.
 */
export const MAX_SVG_TEXT_CHARS = 20_000;
/**
 * Dashes of dashed strokes (`stroke-dasharray`), each copy counted. resvg cuts a dashed outline
 * into separate pieces before stroking them, about 3 µs each here; one path may make up to a
 * million, so a few hundred bytes of SVG could otherwise keep it busy for minutes.
 */
export const MAX_SVG_DASHES = 1_000_000;
/**
 * Pixels painted: for every fill, stroke and image drawn (each copy counted), its area on the
 * surface it is drawn on. Overdraw is what this bounds: a thousand canvas-sized translucent
 * rectangles through `<use>` are a few hundred bytes and a billion blended pixels.
 */
export const MAX_SVG_PAINT_PIXELS = 2_000_000_000;
/**
 * Gradient work: pixels painted with a gradient times its number of stops (each copy counted).
 * tiny-skia walks every stop for every pixel: 5,000 stops over 500×500 pixels took 0.7 s here.
 */
export const MAX_SVG_GRADIENT_WORK = 4_000_000_000;
/** Decoded pixels of all embedded raster images together (`data:image/png` …), each use counted. */
export const MAX_SVG_IMAGE_PIXELS = 100_000_000;
/**
 * Steps resvg spends resolving `<use>` references: it finds each target by scanning the document
 * from the start, so many `<use>` elements in a large document cost quadratic time.
 */
export const MAX_SVG_USE_LOOKUP_STEPS = 100_000_000;
/** CSS selector checks: resvg tries every `<style>` selector against every element (~60 ns each). */
export const MAX_SVG_CSS_MATCHES = 20_000_000;

/** `image` in `svg` mode: the caller supplies SVG markup; nothing it references is fetched. */
const imageFormatSchema = about(
  z.enum(IMAGE_FORMATS).default('png'),
  'Format',
  'png (lossless), webp (small, good quality), jpeg (photos) or avif (smallest, slowest to encode).',
);

export const imageSvgInputSchema = z
  .object({
    // Optional so that inputs written before `card` existed keep meaning `svg`.
    mode: about(z.literal('svg').default('svg'), 'Mode', '"svg": draw the SVG markup given in `svg`.'),
    svg: about(
      z.string().min(1).max(MAX_SVG_CHARS),
      'SVG',
      `SVG markup (at most ${MAX_SVG_CHARS.toLocaleString('en')} characters), drawn with the shipped fonts. It may not reference files or URLs ` +
        '(inline images as data: URIs). Its size, <use> expansion, depth, filters and other costs are capped at submit.',
    ),
    format: imageFormatSchema,
    width: about(
      z.number().int().min(1).max(MAX_RASTER_SIDE).optional(),
      'Width',
      `Output width in pixels (at most ${MAX_RASTER_SIDE}); the height follows the SVG's aspect ratio. Default: the SVG's own size.`,
    ),
  })
  .strict()
  .meta({ title: 'SVG image' });

/** Named canvas sizes: Open Graph / link previews, square posts, full-screen stories. */
export const CARD_SIZE_PRESETS = {
  og: { width: 1200, height: 630 },
  square: { width: 1080, height: 1080 },
  story: { width: 1080, height: 1920 },
} as const;
export type CardSizePreset = keyof typeof CARD_SIZE_PRESETS;

export const DEFAULT_CARD_THEME = { background: '#0f172a', text: '#f8fafc', accent: '#38bdf8' } as const;

const cardSizeSchema = z.union([
  about(
    z.enum(Object.keys(CARD_SIZE_PRESETS) as [CardSizePreset, ...CardSizePreset[]]),
    'Preset',
    'og: 1200×630 (link previews), square: 1080×1080, story: 1080×1920.',
  ),
  z
    .object({
      width: about(z.number().int().min(64).max(4096), 'Width', 'Canvas width in pixels (64–4096).'),
      height: about(z.number().int().min(64).max(4096), 'Height', 'Canvas height in pixels (64–4096).'),
    })
    .strict()
    .meta({ title: 'Custom size' }),
]);

/**
 * The fields of a title card (everything but `mode` and `format`): shared by the `image` kind's
 * card mode and by video scenes, whose JSON Schema refers to this one definition.
 */
export const imageCardFieldsSchema = z
  .object({
    title: about(z.string().trim().min(1).max(200), 'Title', 'The headline (1–200 characters); wraps and shrinks to fit.'),
    subtitle: about(z.string().trim().max(300).optional(), 'Subtitle', 'A line under the title (at most 300 characters).'),
    body: about(z.string().trim().max(2000).optional(), 'Body', 'Body text under the subtitle (at most 2000 characters); shrinks to fit.'),
    size: about(
      cardSizeSchema.optional(),
      'Size',
      'A preset name or {width, height} in pixels. Default: og (1200×630) for an image; the video frame for a scene.',
    ),
    theme: about(
      z
        .object({
          background: about(hexColorSchema.default(DEFAULT_CARD_THEME.background), 'Background', 'Canvas colour, #rgb, #rrggbb or #rrggbbaa.'),
          text: about(hexColorSchema.default(DEFAULT_CARD_THEME.text), 'Text', 'Title and body colour.'),
          accent: about(hexColorSchema.default(DEFAULT_CARD_THEME.accent), 'Accent', 'Colour of the accent bar and the subtitle.'),
        })
        .strict()
        .default({ ...DEFAULT_CARD_THEME }),
      'Theme',
      'Colours of the card.',
    ),
    align: about(z.enum(['left', 'center']).default('left'), 'Alignment', 'left or center.'),
    logoAssetId: about(z.string().uuid().optional(), 'Logo', 'An image asset of your company (uploaded or made by a job), drawn in the top corner.'),
    backgroundAssetId: about(
      z.string().uuid().optional(),
      'Background image',
      'An image asset of your company, cropped to cover the canvas under the text.',
    ),
    backgroundOverlay: about(
      z.number().min(0).max(1).default(0.55),
      'Background overlay',
      'Opacity (0–1) of the theme background laid over a background image, so text stays legible.',
    ),
  })
  .strict();

/**
 * `image` in `card` mode: a title card laid out by Kiln. Text wraps and shrinks to fit the canvas;
 * if it cannot fit even at the smallest size, the job fails rather than cutting text off.
 */
export const imageCardInputSchema = z
  .object({ mode: about(z.literal('card'), 'Mode', '"card": a title card laid out by Kiln from the fields below.') })
  .extend(imageCardFieldsSchema.shape)
  .extend({
    size: about(cardSizeSchema.default('og'), 'Size', 'A preset name or {width, height} in pixels (default og, 1200×630).'),
    format: imageFormatSchema,
  })
  .strict()
  .meta({ title: 'Title card' });

export const imageInputSchema = z.discriminatedUnion('mode', [imageSvgInputSchema, imageCardInputSchema]);
export type ImageInput = z.infer<typeof imageInputSchema>;
export type ImageSvgInput = z.infer<typeof imageSvgInputSchema>;
export type ImageCardInput = z.infer<typeof imageCardInputSchema>;
