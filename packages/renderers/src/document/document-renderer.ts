import { documentMeta } from './document-meta.js';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DocumentInput } from '@kiln/shared';
import { defineRenderer, RenderError, throwIfAborted, type RenderContext, type Renderer, type RenderResult } from '../contract.js';
import { withAbortReason } from '../abort-reason.js';
import { readAssetBytes } from '../read-asset-bytes.js';
import { writePreview } from '../preview-image.js';
import { createChromiumHost, type ChromiumHost, type ChromiumHostOptions } from './chromium-host.js';
import { assertOnlyAssetImages, markdownBodyHtml, parseMarkdown, type ParsedMarkdown } from './markdown-to-html.js';
import { assertMarkdownWithinCaps } from './markdown-caps.js';
import { noticeWarnings } from './markdown-notices.js';
import { imageSize, scaledImagesWarning, textColumnWidthPx, type ImageSize } from './image-fit.js';
import { documentPageHtml, pageNumberFooterHtml } from './document-page.js';
import { printPdfToFile } from './print-pdf.js';
import { preparePdfInfoUpdate } from './pdf-info-update.js';
import { firstPageImage, screenImage } from './page-preview.js';

/** Paper in millimetres, portrait. */
const PAPER_MM = { A4: { width: 210, height: 297 }, Letter: { width: 215.9, height: 279.4 } } as const;
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const MAX_TOTAL_IMAGE_BYTES = 60 * 1024 * 1024;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/svg+xml']);


export interface DocumentRenderer extends Renderer<DocumentInput> {
  /** Closes the Chromium this renderer may have started; call on shutdown. */
  close(): Promise<void>;
}

/**
 * `document`: Markdown to PDF (or self-contained HTML) with a PNG preview of the first page.
 *
 * Engine: Chromium (Debian's, driven by playwright-core). Chosen for quality: it is a complete
 * layout engine — real text shaping and line breaking, tables that break across pages with
 * repeated headers, CSS for code and quotes, SVG and every common image format, tagged
 * PDFs with an outline — which the pure-JS PDF writers (pdf-lib, pdfkit, jsPDF) would each need
 * us to reimplement, badly. The cost is a browser process (launched lazily and shared, see
 * chromium-host.ts) and ~0.3 s per document.
 */
export function createDocumentRenderer(options: ChromiumHostOptions = {}): DocumentRenderer {
  const chromium = createChromiumHost(options);
  // The API calls preflight and assetRefs on the same input, on its own thread; lexing a large
  // document once instead of twice halves that. The caps come first: they are what bounds the
  // parse (under 0.3 s of CPU for the worst document they accept).
  const parsedInputs = new WeakMap<DocumentInput, ParsedMarkdown>();
  const parsedOnce = (input: DocumentInput) => {
    let parsed = parsedInputs.get(input);
    if (!parsed) {
      assertMarkdownWithinCaps(input.markdown);
      parsedInputs.set(input, (parsed = parseMarkdown(input.markdown)));
    }
    return parsed;
  };
  const renderer = defineRenderer<DocumentInput>({
    ...documentMeta,
    assetRefs(input) {
      return parsedOnce(input).assetIds;
    },
    preflight(input) {
      assertOnlyAssetImages(parsedOnce(input));
    },
    render(input, ctx) {
      return withAbortReason(ctx.signal, () => renderDocument(input, ctx, chromium));
    },
  });
  return { ...renderer, close: () => chromium.close() };
}

async function renderDocument(input: DocumentInput, ctx: RenderContext, chromium: ChromiumHost): Promise<RenderResult> {
  ctx.progress(0.02, 'parse');
  // Again at render: a job queued before the caps existed (or by another path) is checked too.
  assertMarkdownWithinCaps(input.markdown);
  const parsed = parseMarkdown(input.markdown);
  assertOnlyAssetImages(parsed);
  for (const warning of noticeWarnings(parsed.notices)) ctx.warn(warning);
  const { images, sizes } = await loadImages(parsed, ctx);
  const scaled = scaledImagesWarning(sizes, textColumnWidthPx(pageLayout(input)));
  if (scaled) ctx.warn(scaled);
  throwIfAborted(ctx.signal);

  const title = input.title ?? parsed.firstHeading ?? 'Document';
  const html = documentPageHtml({ title, author: input.author, bodyHtml: markdownBodyHtml(parsed, images) });
  images.clear(); // the page holds the only copy we still need

  if (input.format === 'html') return renderHtml(html, ctx, chromium);
  return renderPdf(html, input, title, ctx, chromium);
}

/** The paper (portrait or landscape) and side margins a document is laid out in. */
function pageLayout(input: DocumentInput) {
  const paper = PAPER_MM[input.pageSize];
  return {
    format: input.format,
    paperWidthMm: input.orientation === 'landscape' ? paper.height : paper.width,
    marginLeftMm: input.margins.left,
    marginRightMm: input.margins.right,
  };
}

async function loadImages(parsed: ParsedMarkdown, ctx: RenderContext): Promise<{ images: Map<string, string>; sizes: ImageSize[] }> {
  const images = new Map<string, string>();
  const sizes: ImageSize[] = [];
  let total = 0;
  for (const [i, id] of parsed.assetIds.entries()) {
    ctx.progress(0.02 + (0.2 * i) / parsed.assetIds.length, 'assets');
    const { asset, bytes } = await readAssetBytes(ctx, id, { maxBytes: MAX_IMAGE_BYTES, purpose: 'a document image' });
    const type = asset.contentType.split(';')[0]!.trim().toLowerCase();
    if (!IMAGE_TYPES.has(type)) {
      throw new RenderError('render_failed', `Asset ${id} is ${asset.contentType}, not an image a document can show.`);
    }
    total += bytes.length;
    if (total > MAX_TOTAL_IMAGE_BYTES) {
      throw new RenderError('render_failed', `The document's images exceed ${MAX_TOTAL_IMAGE_BYTES / (1024 * 1024)} MiB in total.`);
    }
    const size = await imageSize(id, asset.metadata, bytes);
    if (size) sizes.push(size);
    images.set(id, `data:${type};base64,${bytes.toString('base64')}`);
  }
  return { images, sizes };
}

async function renderPdf(
  html: string,
  input: DocumentInput,
  title: string,
  ctx: RenderContext,
  chromium: ChromiumHost,
) {
  const paper = PAPER_MM[input.pageSize];
  const [widthMm, heightMm] =
    input.orientation === 'landscape' ? [paper.height, paper.width] : [paper.width, paper.height];
  const inches = (mm: number) => mm / 25.4;
  const pdfFile = path.join(ctx.tmpDir, 'document.pdf');

  const previewPng = await chromium.withPage(ctx.signal, async (page) => {
    ctx.progress(0.3, 'layout');
    await page.setContent(html, { waitUntil: 'load' });
    ctx.progress(0.45, 'print');
    await printPdfToFile(page, pdfFile, {
      paperWidthIn: inches(widthMm),
      paperHeightIn: inches(heightMm),
      marginsIn: {
        top: inches(input.margins.top),
        right: inches(input.margins.right),
        bottom: inches(input.margins.bottom),
        left: inches(input.margins.left),
      },
      footerHtml: input.pageNumbers ? pageNumberFooterHtml() : undefined,
      signal: ctx.signal,
    });
    ctx.progress(0.7, 'preview');
    return firstPageImage(page, { widthMm, heightMm, margins: input.margins });
  });
  throwIfAborted(ctx.signal);

  ctx.progress(0.8, 'metadata');
  let facts: Awaited<ReturnType<typeof preparePdfInfoUpdate>>;
  try {
    facts = await preparePdfInfoUpdate(pdfFile, { title, author: input.author, creator: 'Kiln' });
  } catch (err) {
    throw new RenderError('render_failed', `Could not read the PDF Chromium produced: ${(err as Error).message}`);
  }

  ctx.progress(0.85, 'write');
  const out = ctx.output({ role: 'primary', contentType: 'application/pdf', filename: 'document.pdf' });
  const update = facts.update;
  async function* pdfBytes() {
    yield* createReadStream(pdfFile);
    yield update;
  }
  await pipeline(Readable.from(pdfBytes()), out, { signal: ctx.signal });

  ctx.progress(0.95, 'preview');
  const preview = await writePreview(ctx, previewPng, { format: 'png', filename: 'document-preview.png' });
  ctx.progress(1, 'done');
  return {
    metadata: {
      primary: { format: 'pdf', pages: facts.pageCount, pageSize: input.pageSize, orientation: input.orientation },
      preview,
    },
  };
}

async function renderHtml(html: string, ctx: RenderContext, chromium: ChromiumHost) {
  const htmlFile = path.join(ctx.tmpDir, 'document.html');
  await writeFile(htmlFile, html);
  ctx.progress(0.4, 'write');
  const out = ctx.output({ role: 'primary', contentType: 'text/html; charset=utf-8', filename: 'document.html' });
  await pipeline(createReadStream(htmlFile), out, { signal: ctx.signal });

  ctx.progress(0.6, 'preview');
  const shot = await chromium.withPage(ctx.signal, async (page) => {
    await page.setContent(html, { waitUntil: 'load' });
    return screenImage(page);
  });
  const preview = await writePreview(ctx, shot, { format: 'png', filename: 'document-preview.png' });
  ctx.progress(1, 'done');
  return { metadata: { primary: { format: 'html' }, preview } };
}
