import satori, { type Font } from 'satori';
import { CARD_SIZE_PRESETS, type ImageCardInput } from '@kiln/shared';
import { RenderError, throwIfAborted } from '../contract.js';
import { DEFAULT_FONT_FAMILY } from '../fonts.js';
import type { CardImage } from './card-image.js';

/** satori is typed against React elements; our trees are the plain { type, props } objects it also accepts. */
type SatoriNode = Parameters<typeof satori>[0];

/** Font sizes at scale 1, as a fraction of the canvas's shorter side. */
const BASE_SIZE = { title: 0.09, subtitle: 0.045, body: 0.034 } as const;
/** Below these (px) text stops being readable; shrinking stops here. */
const MIN_SIZE = { title: 14, subtitle: 11, body: 10 } as const;
/** The smallest scale tried before giving up. */
const MIN_SCALE = 0.2;
const LINE_HEIGHT = { title: 1.15, subtitle: 1.3, body: 1.45 } as const;

type TextPart = keyof typeof BASE_SIZE;

/** The element tree satori lays out (React-element shaped, without React). */
interface CardNode {
  type: 'div' | 'img';
  props: {
    style?: Record<string, string | number>;
    children?: CardNode | CardNode[] | string;
    src?: string;
    width?: number;
    height?: number;
  };
}

export interface CardGeometry {
  width: number;
  height: number;
  shortSide: number;
  padding: number;
  innerWidth: number;
  logoBox: { width: number; height: number };
  logoGap: number;
  /** Height left for the text block. */
  textHeight: number;
}

export function cardSize(input: Pick<ImageCardInput, 'size'>): { width: number; height: number } {
  return typeof input.size === 'string' ? CARD_SIZE_PRESETS[input.size] : input.size;
}

export function cardGeometry(input: ImageCardInput, hasLogo: boolean): CardGeometry {
  const { width, height } = cardSize(input);
  const shortSide = Math.min(width, height);
  const padding = Math.round(shortSide * 0.07);
  const innerWidth = width - 2 * padding;
  const logoBox = { width: Math.round(innerWidth * 0.5), height: Math.round(shortSide * 0.11) };
  const logoGap = Math.round(shortSide * 0.04);
  const textHeight = height - 2 * padding - (hasLogo ? logoBox.height + logoGap : 0);
  return { width, height, shortSide, padding, innerWidth, logoBox, logoGap, textHeight };
}

function fontSize(part: TextPart, geo: CardGeometry, scale: number): number {
  return Math.max(MIN_SIZE[part], Math.round(geo.shortSide * BASE_SIZE[part] * scale * 10) / 10);
}

/**
 * A cheap, deliberately optimistic check for the API: refuses text that could not fit even if every
 * glyph were as narrow as DejaVu Sans's narrow letters (0.3 em) at the smallest size. Whatever it
 * lets through is measured for real by {@link renderCardSvg}.
 */
export function assertCardTextCanFit(input: ImageCardInput): void {
  const geo = cardGeometry(input, Boolean(input.logoAssetId));
  let needed = 0;
  for (const part of ['title', 'subtitle', 'body'] as const) {
    const text = input[part];
    if (!text) continue;
    const size = fontSize(part, geo, MIN_SCALE);
    needed += [...text].length * 0.3 * size * LINE_HEIGHT[part] * size;
  }
  if (geo.textHeight <= 0 || needed > geo.innerWidth * geo.textHeight) {
    throw new RenderError('validation_failed', 'The card text cannot fit on the canvas.', {
      details: [
        {
          path: ['input', input.body ? 'body' : 'title'],
          message: `This much text cannot fit on a ${geo.width}×${geo.height} card even at the smallest size; shorten it or choose a larger size.`,
        },
      ],
    });
  }
}

/**
 * Lays the card out with satori and returns SVG (text already converted to paths, so resvg needs no
 * fonts). Text starts at its full size and shrinks, all parts together, until the text block fits
 * the space left by padding and logo; the block is measured by satori itself (layout with no fixed
 * height), so what is measured is exactly what is drawn. When even the smallest size does not fit,
 * or the text has characters the shipped font lacks, the render fails: text is never cut off or
 * dropped without the caller knowing.
 */
export async function renderCardSvg(
  input: ImageCardInput,
  images: { logo?: CardImage; background?: CardImage },
  options: { fonts: Font[]; signal: AbortSignal },
): Promise<{ svg: string; width: number; height: number; textScale: number }> {
  const geo = cardGeometry(input, Boolean(images.logo));
  const missingGlyphs = new Set<string>();
  const satoriOptions = {
    fonts: options.fonts,
    // satori asks for another font when the shipped ones lack a glyph; record what was missing.
    loadAdditionalAsset: async (_language: string, segment: string) => {
      missingGlyphs.add(segment);
      return [] as Font[];
    },
  };

  const measure = async (scale: number): Promise<number> => {
    throwIfAborted(options.signal);
    const svg = await satori(textBlock(input, geo, scale) as SatoriNode, { ...satoriOptions, width: geo.innerWidth });
    if (missingGlyphs.size > 0) {
      throw new RenderError(
        'render_failed',
        `The card text has characters the shipped font (${DEFAULT_FONT_FAMILY}) cannot draw: ` +
          `${[...missingGlyphs].slice(0, 10).join(' ')}. Remove them, or draw the card as SVG in svg mode.`,
      );
    }
    return svgHeight(svg);
  };
  const fits = async (scale: number) => (await measure(scale)) <= geo.textHeight;
  const doesNotFit = () =>
    new RenderError(
      'render_failed',
      `The card text does not fit on a ${geo.width}×${geo.height} canvas even at the smallest size; shorten it or choose a larger size.`,
    );

  let scale = 1;
  if (geo.textHeight <= 0) throw doesNotFit();
  const needed = await measure(1);
  if (needed > geo.textHeight) {
    // Wrapped text grows about with the square of the scale (taller lines, and more of them), so
    // the search starts near sqrt(available / needed) and bisects a narrow bracket around it.
    // Invariant: `lo` always fits.
    const guess = Math.min(1, Math.max(MIN_SCALE, Math.sqrt(geo.textHeight / needed)));
    let lo: number;
    let hi: number;
    if (await fits(guess)) [lo, hi] = [guess, Math.min(1, guess * 1.15)];
    else if (guess * 0.85 > MIN_SCALE && (await fits(guess * 0.85))) [lo, hi] = [guess * 0.85, guess];
    else if (await fits(MIN_SCALE)) [lo, hi] = [MIN_SCALE, guess];
    else throw doesNotFit();
    while (hi - lo > 0.01) {
      const mid = (lo + hi) / 2;
      if (await fits(mid)) lo = mid;
      else hi = mid;
    }
    scale = lo;
  }

  throwIfAborted(options.signal);
  // The measured fit is re-checked on the final layout: every box that holds text must lie inside
  // the canvas, so a layout mistake fails the job instead of shipping a card with clipped text.
  const outside: string[] = [];
  const svg = await satori(cardTree(input, geo, images, scale) as SatoriNode, {
    ...satoriOptions,
    width: geo.width,
    height: geo.height,
    onNodeDetected(node) {
      if (!node.textContent) return;
      const inside =
        node.left >= -0.5 && node.top >= -0.5 && node.left + node.width <= geo.width + 0.5 && node.top + node.height <= geo.height + 0.5;
      if (!inside) outside.push(node.textContent.slice(0, 40));
    },
  });
  if (outside.length > 0) {
    throw new RenderError('render_failed', `Card layout placed text outside the canvas: "${outside[0]}".`);
  }
  return { svg, width: geo.width, height: geo.height, textScale: Math.round(scale * 100) / 100 };
}

function svgHeight(svg: string): number {
  const match = /^<svg[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!match) throw new RenderError('render_failed', 'Card layout produced no size.');
  return Number(match[1]);
}

function textBlock(input: ImageCardInput, geo: CardGeometry, scale: number): CardNode {
  const gap = Math.round(geo.shortSide * 0.03 * scale);
  const textAlign = input.align;
  const part = (name: TextPart, text: string, extra: Record<string, string | number>): CardNode => ({
    type: 'div',
    props: {
      style: {
        fontSize: fontSize(name, geo, scale),
        lineHeight: LINE_HEIGHT[name],
        color: input.theme.text,
        textAlign,
        // Long words and URLs break rather than run off the canvas.
        wordBreak: 'break-word',
        maxWidth: geo.innerWidth,
        flexShrink: 0,
        ...extra,
      },
      children: text,
    },
  });
  const children: CardNode[] = [
    {
      type: 'div',
      props: {
        style: {
          width: Math.round(geo.shortSide * 0.12),
          height: Math.max(4, Math.round(geo.shortSide * 0.012)),
          backgroundColor: input.theme.accent,
          marginBottom: gap,
          flexShrink: 0,
        },
      },
    },
    part('title', input.title, { fontWeight: 700 }),
  ];
  if (input.subtitle) children.push(part('subtitle', input.subtitle, { marginTop: gap, opacity: 0.85 }));
  // pre-line keeps the caller's line breaks between paragraphs and collapses other whitespace.
  if (input.body) children.push(part('body', input.body, { marginTop: Math.round(gap * 1.2), opacity: 0.75, whiteSpace: 'pre-line' }));
  return {
    type: 'div',
    props: {
      style: {
        display: 'flex',
        flexDirection: 'column',
        alignItems: input.align === 'center' ? 'center' : 'flex-start',
        width: geo.innerWidth,
        flexShrink: 0,
        fontFamily: DEFAULT_FONT_FAMILY,
      },
      children,
    },
  };
}

function cardTree(
  input: ImageCardInput,
  geo: CardGeometry,
  images: { logo?: CardImage; background?: CardImage },
  scale: number,
): CardNode {
  const fullCanvas = { position: 'absolute', top: 0, left: 0, width: geo.width, height: geo.height } as const;
  const children: CardNode[] = [];
  if (images.background) {
    children.push({
      type: 'img',
      props: { src: images.background.dataUri, width: geo.width, height: geo.height, style: { ...fullCanvas } },
    });
    children.push({
      type: 'div',
      props: { style: { ...fullCanvas, backgroundColor: input.theme.background, opacity: input.backgroundOverlay } },
    });
  }
  if (images.logo) {
    children.push({
      type: 'div',
      props: {
        style: {
          display: 'flex',
          // Positioned like the background layers, so tree order (not CSS's "positioned on top"
          // rule) decides what paints over what.
          position: 'relative',
          width: geo.innerWidth,
          height: geo.logoBox.height,
          marginBottom: geo.logoGap,
          justifyContent: input.align === 'center' ? 'center' : 'flex-start',
          alignItems: 'center',
          flexShrink: 0,
        },
        children: {
          type: 'img',
          props: { src: images.logo.dataUri, width: images.logo.width, height: images.logo.height },
        },
      },
    });
  }
  children.push({
    type: 'div',
    props: {
      style: { display: 'flex', flexDirection: 'column', justifyContent: 'center', flexGrow: 1, width: geo.innerWidth, position: 'relative' },
      children: textBlock(input, geo, scale),
    },
  });
  return {
    type: 'div',
    props: {
      style: {
        display: 'flex',
        flexDirection: 'column',
        position: 'relative',
        width: geo.width,
        height: geo.height,
        // satori's default is content-box, which would add the padding to the canvas size.
        boxSizing: 'border-box',
        padding: geo.padding,
        backgroundColor: input.theme.background,
        fontFamily: DEFAULT_FONT_FAMILY,
      },
      children,
    },
  };
}
