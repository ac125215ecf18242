import sharp from 'sharp';
import type { Page } from 'playwright-core';

/** CSS pixels per millimetre (96 per inch). */
const PX_PER_MM = 96 / 25.4;

/**
 * A picture of the first PDF page, taken by the Chromium that printed it (no second rendering
 * engine, no extra system package): the page is laid out again in print media at the width of
 * the page's text area, the first page-height of it is captured, and the capture is placed on a
 * white sheet with the page's margins. It matches the PDF except for the footer and for a block
 * that the PDF pushes to page 2 (the capture cuts it at the bottom instead).
 */
export async function firstPageImage(
  page: Page,
  sheet: { widthMm: number; heightMm: number; margins: { top: number; right: number; bottom: number; left: number } },
): Promise<Buffer> {
  const px = (mm: number) => Math.max(1, Math.round(mm * PX_PER_MM));
  const pageWidth = px(sheet.widthMm);
  const pageHeight = px(sheet.heightMm);
  const left = Math.round(sheet.margins.left * PX_PER_MM);
  const top = Math.round(sheet.margins.top * PX_PER_MM);
  const contentWidth = Math.max(1, pageWidth - left - Math.round(sheet.margins.right * PX_PER_MM));
  const contentHeight = Math.max(1, pageHeight - top - Math.round(sheet.margins.bottom * PX_PER_MM));
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: contentWidth, height: contentHeight });
  const shot = await page.screenshot({ type: 'png', animations: 'disabled', caret: 'hide' });
  return sharp({ create: { width: pageWidth, height: pageHeight, channels: 3, background: '#ffffff' } })
    .composite([{ input: shot, left, top }])
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** The top of the HTML page as a reader's screen would show it (for `html` output). */
export async function screenImage(page: Page): Promise<Buffer> {
  await page.emulateMedia({ media: 'screen' });
  await page.setViewportSize({ width: 820, height: 1160 });
  return page.screenshot({ type: 'png', animations: 'disabled', caret: 'hide' });
}
