import { renderAsync } from '@resvg/resvg-js';
import { DEFAULT_FONT_FAMILY, FONT_DIR } from '../fonts.js';

/**
 * SVG → PNG with resvg, using only the shipped fonts (no system fonts, so output is the same on
 * every machine). renderAsync runs on libuv's thread pool and honours the AbortSignal.
 */
export async function rasterizeSvg(
  svg: string,
  options: { width?: number; signal?: AbortSignal; background?: string },
): Promise<{ png: Buffer; width: number; height: number }> {
  const image = await renderAsync(
    svg,
    {
      fitTo: options.width ? { mode: 'width', value: options.width } : { mode: 'original' },
      background: options.background,
      font: {
        loadSystemFonts: false,
        fontDirs: [FONT_DIR],
        defaultFontFamily: DEFAULT_FONT_FAMILY,
        sansSerifFamily: DEFAULT_FONT_FAMILY,
        serifFamily: DEFAULT_FONT_FAMILY,
        monospaceFamily: 'DejaVu Sans Mono',
      },
      logLevel: 'off',
    },
    options.signal,
  );
  return { png: image.asPng(), width: image.width, height: image.height };
}
