import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Page } from 'playwright-core';

export interface PrintOptions {
  paperWidthIn: number;
  paperHeightIn: number;
  marginsIn: { top: number; right: number; bottom: number; left: number };
  /** HTML for the footer of every page; no footer when absent. */
  footerHtml?: string;
  signal: AbortSignal;
  /** Called with the bytes written so far. */
  onBytes?(written: number): void;
}

const READ_CHUNK = 1024 * 1024;

/**
 * Prints the page to a PDF file through the DevTools protocol with `ReturnAsStream`, reading it in
 * 1 MiB chunks straight to disk. Playwright's page.pdf() would hand back the whole PDF as one
 * Buffer (base64 over the pipe first); here memory stays at one chunk whatever the page count.
 * Also asks Chromium for a tagged PDF (accessibility) and an outline built from the headings.
 */
export async function printPdfToFile(page: Page, file: string, options: PrintOptions): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { stream } = await cdp.send('Page.printToPDF', {
      transferMode: 'ReturnAsStream',
      paperWidth: options.paperWidthIn,
      paperHeight: options.paperHeightIn,
      marginTop: options.marginsIn.top,
      marginRight: options.marginsIn.right,
      marginBottom: options.marginsIn.bottom,
      marginLeft: options.marginsIn.left,
      printBackground: true,
      preferCSSPageSize: false,
      displayHeaderFooter: Boolean(options.footerHtml),
      headerTemplate: '<span></span>',
      footerTemplate: options.footerHtml ?? '<span></span>',
      generateTaggedPDF: true,
      generateDocumentOutline: true,
    });
    if (!stream) throw new Error('Chromium returned no PDF stream');
    let written = 0;
    async function* chunks() {
      try {
        for (;;) {
          const { data, base64Encoded, eof } = await cdp.send('IO.read', { handle: stream!, size: READ_CHUNK });
          const chunk = Buffer.from(data, base64Encoded ? 'base64' : 'utf8');
          written += chunk.length;
          options.onBytes?.(written);
          if (chunk.length > 0) yield chunk;
          if (eof) break;
        }
      } finally {
        await cdp.send('IO.close', { handle: stream! }).catch(() => undefined);
      }
    }
    await pipeline(Readable.from(chunks()), createWriteStream(file), { signal: options.signal });
    return written;
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
