import * as vega from 'vega';
import { FONT_FILES } from '../fonts.js';
import { loadFontMetrics, type FontMetrics } from '../font-metrics.js';

interface TextItem {
  font?: string;
  fontSize?: number | string;
  fontWeight?: string | number;
}
type WidthFunction = ((item: TextItem, text?: unknown) => number) & { kilnShippedFonts?: true };
const textMetrics = (vega as unknown as { textMetrics: { width: WidthFunction } }).textMetrics;

/**
 * Makes vega size text with the widths of the fonts the chart is drawn with. Without a canvas
 * package vega guesses 0.8 em per character, which in DejaVu Sans (≈0.55 em) truncates axis
 * labels with "…" that would have fitted and pads axes too generously.
 *
 * This replaces vega's process-wide `textMetrics.width` — the hook vega documents for exactly
 * this (vl-convert does the same). It is set once per process (per worker thread), idempotently,
 * and only ever by the chart renderer, so there is no state to tear down.
 */
export async function useShippedFontMetrics(): Promise<void> {
  if (textMetrics.width.kilnShippedFonts) return;
  const [regular, bold, mono] = await Promise.all([
    loadFontMetrics(FONT_FILES.sans),
    loadFontMetrics(FONT_FILES.sansBold),
    loadFontMetrics(FONT_FILES.mono),
  ]);
  const pick = (item: TextItem): FontMetrics => {
    if (/mono|courier/i.test(item.font ?? '')) return mono;
    const weight = item.fontWeight;
    const isBold = weight === 'bold' || weight === 'bolder' || (Number(weight) >= 600);
    return isBold ? bold : regular;
  };
  const width: WidthFunction = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const value = text == null ? '' : String(text).trim();
    return size <= 0 || !value ? 0 : pick(item).textWidth(value, size);
  };
  width.kilnShippedFonts = true;
  textMetrics.width = width;
}
