import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { PDFDocument } from 'pdf-lib';
import { z } from 'zod';
import { createDocumentRenderer } from '../src/document/document-renderer.js';
import type { FileAsset } from '../src/testing/file-render-context.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun, fixtureFile } = useRenderRuns();

const run = promisify(execFile);
// One renderer (one Chromium) for the file, as in a worker process.
const renderer = createDocumentRenderer();
afterAll(() => renderer.close());

const parse = (input: unknown) => renderer.inputSchema.parse(input);

const render = (input: unknown, assets: FileAsset[] = []) => renderWith(renderer, input, newRun, assets);

const pdfText = async (file: string) => (await run('pdftotext', ['-layout', file, '-'])).stdout;
const pdfInfo = async (file: string) => {
  const { stdout, stderr } = await run('pdfinfo', [file]);
  expect(stderr).toBe(''); // poppler complains on stderr about a broken xref or trailer
  return stdout;
};

/** About three A4 pages of varied Markdown. */
const threePages = [
  '# Field report',
  '',
  'The *quick* brown fox **jumps** over the lazy dog, and `code` sits inline. See [the site](https://example.com).',
  '',
  ...Array.from({ length: 6 }, (_, i) => [
    `## Section ${i + 1}`,
    '',
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. '.repeat(3),
    '',
    '- first point',
    '- second point',
    '  1. nested',
    '',
    '> A quotation worth keeping.',
    '',
    '| Name | Value |',
    '| --- | ---: |',
    `| alpha-${i} | ${i * 10} |`,
    `| beta-${i} | ${i * 20} |`,
    '',
    '```js',
    `console.log("block ${i}");`,
    '```',
    '',
  ].join('\n')),
].join('\n');

describe('document renderer', () => {
  it('renders the example to a PDF with a preview', async () => {
    const { primary, preview, result } = await render(renderer.example);
    expect(primary.contentType).toBe('application/pdf');
    expect((await readFile(primary.path)).subarray(0, 5).toString()).toBe('%PDF-');
    expect(result).toMatchObject({ metadata: { primary: { format: 'pdf', pages: 1 } } });
    const text = await pdfText(primary.path);
    expect(text).toContain('Quarterly report');
    expect(text).toMatch(/document\s+2,000\s+16 %/); // a table row, cells in order
    await expectFirstPagePreview(preview.path);
  });

  it('lays out three pages: text, page count, numbered footers, title and author metadata', async () => {
    const { primary, result, run: ctx } = await render({ markdown: threePages, author: 'Zoë Writer' });
    const text = await pdfText(primary.path);
    for (const s of ['Field report', 'Section 6', 'A quotation worth keeping.', 'beta-5', 'console.log("block 4");', 'nested']) {
      expect(text).toContain(s);
    }
    const info = await pdfInfo(primary.path);
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
    expect(pages).toBe(3);
    expect(result).toMatchObject({ metadata: { primary: { pages: 3, pageSize: 'A4' } } });
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
    for (let p = 1; p <= 3; p++) expect(text).toMatch(new RegExp(`\\b${p}\\s*/\\s*3\\b`));
    // Only the shipped fonts are used (Chromium sees no others), all embedded.
    const fonts = (await run('pdffonts', [primary.path])).stdout.split('\n').slice(2).filter(Boolean);
    expect(fonts.length).toBeGreaterThan(0);
    for (const line of fonts) expect(line).toMatch(/^[A-Z]{6}\+DejaVuSans(-Bold|-Oblique|-BoldOblique|Mono)?\s.*\byes\s+yes\b/);
    // Title defaults to the first heading; author is set; an independent parser agrees.
    const pdf = await PDFDocument.load(await readFile(primary.path), { updateMetadata: false });
    expect(pdf.getPageCount()).toBe(3);
    expect(pdf.getTitle()).toBe('Field report');
    expect(pdf.getAuthor()).toBe('Zoë Writer');
    expect(ctx.progress.map((p) => p.stage)).toEqual(['parse', 'layout', 'print', 'preview', 'metadata', 'write', 'preview', 'done']);
  });

  it('honours page size, orientation and no page numbers', async () => {
    const { primary } = await render({ markdown: '# Wide\n\ntext', pageSize: 'Letter', orientation: 'landscape', pageNumbers: false, margins: { top: 10, right: 10, bottom: 5, left: 10 } });
    expect(await pdfInfo(primary.path)).toMatch(/Page size:\s+792 x 612 pts \(letter\)/);
    expect(await pdfText(primary.path)).not.toMatch(/1\s*\/\s*1/);
  });

  it('inlines images from assets of the company', async () => {
    const { id, path: file } = fixtureFile('.png');
    await sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } }).png().toFile(file);
    const markdown = `# With a chart\n\n![sales](asset:${id})\n\nAfter the image.`;
    expect(renderer.assetRefs!(parse({ markdown }))).toEqual([id]);
    const { primary, preview } = await render({ markdown }, [{ id, path: file, contentType: 'image/png' }]);
    const { stdout } = await run('pdfimages', ['-list', primary.path]);
    expect(stdout.trim().split('\n').length - 2).toBe(1); // two header lines, then one row per image
    // The red image shows on the first-page preview.
    const { data, info } = await sharp(preview.path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let red = 0;
    for (let i = 0; i < info.width * info.height; i++) if (data[i * 3]! > 200 && data[i * 3 + 1]! < 60) red++;
    expect(red).toBeGreaterThan(500);
  });

  it('refuses images that are not assets, and never interprets raw HTML', async () => {
    for (const markdown of [
      '![x](https://example.com/a.png)',
      '![x](file:///etc/passwd)',
      '![x](/etc/passwd)',
      '![x][ref]\n\n[ref]: http://169.254.169.254/latest/meta-data',
      '| a |\n| - |\n| ![x](//example.com/y.png) |',
    ]) {
      const input = parse({ markdown });
      expect(() => renderer.preflight!(input), markdown).toThrow(expect.objectContaining({ code: 'validation_failed' }));
      const ctx = await newRun();
      await expect(renderer.render(input, ctx.ctx)).rejects.toMatchObject({ code: 'validation_failed' });
      expect(ctx.outputs).toHaveLength(0);
    }
    const raw = '<img src="http://127.0.0.1:9/x.png"><script>document.title="x"</script>\n\n<iframe src="file:///etc/passwd"></iframe>\n\n[bad](javascript:alert(1)) and [good](https://example.com)';
    const { primary } = await render({ markdown: raw, format: 'html' });
    const html = await readFile(primary.path, 'utf8');
    expect(html).not.toMatch(/<(img|script|iframe)\b/);
    expect(html).toContain('&#60;script&#62;');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('<a href="https://example.com">good</a>');
    expect(html).toContain("default-src 'none'");
  });

  it('renders self-contained HTML with a preview', async () => {
    const { primary, preview, result } = await render({ markdown: threePages, format: 'html', title: 'Report' });
    expect(primary.contentType).toBe('text/html; charset=utf-8');
    const html = await readFile(primary.path, 'utf8');
    expect(html).toContain('<title>Report</title>');
    expect(html).toContain('<h2 id="section-6">Section 6</h2>');
    expect(html).toContain('<table>');
    expect(result).toMatchObject({ metadata: { primary: { format: 'html' }, preview: { format: 'png' } } });
    const meta = await sharp(preview.path).metadata();
    expect([meta.format, Math.max(meta.width!, meta.height!)]).toEqual(['png', 320]);
  });

  it('fails with asset_not_found for an image asset of another company', async () => {
    const ctx = await newRun();
    await expect(renderer.render(parse({ markdown: `![x](asset:${randomUUID()})` }), ctx.ctx)).rejects.toMatchObject({
      code: 'asset_not_found',
    });
  });

  it('stops promptly when aborted, closing the page, and writes no output', async () => {
    const rows = Array.from({ length: 6000 }, (_, i) => `| row ${i} | ${'cell text '.repeat(6)} | ${i} |`).join('\n');
    const input = parse({ markdown: `# Big\n\n| a | b | c |\n| - | - | - |\n${rows}` });
    const ctx = await newRun();
    const rendering = renderer.render(input, ctx.ctx);
    // Abort once Chromium is busy laying out or printing.
    await waitFor(() => ctx.progress.some((p) => p.stage === 'layout'));
    await new Promise((r) => setTimeout(r, 200));
    expect(['layout', 'print']).toContain(ctx.progress.at(-1)?.stage); // Chromium is mid-job (a full run takes ~10 s)
    const abortedAt = Date.now();
    ctx.abort(new DOMException('canceled', 'AbortError'));
    await expect(rendering).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(ctx.outputs).toHaveLength(0);
    // The shared browser is still usable by the next job.
    const next = await render({ markdown: '# Still here' });
    expect(await pdfText(next.primary.path)).toContain('Still here');
  });

  it('validates its input', () => {
    expect(renderer.inputSchema.safeParse({ markdown: '# x', margins: { bottom: 5 } }).success).toBe(false);
    expect(renderer.inputSchema.safeParse({ markdown: '# x', margins: { bottom: 5 }, pageNumbers: false }).success).toBe(true);
    expect(renderer.inputSchema.safeParse({ markdown: '' }).success).toBe(false);
    expect(() => z.toJSONSchema(renderer.inputSchema, { io: 'input' })).not.toThrow();
  });
});

async function expectFirstPagePreview(file: string) {
  const meta = await sharp(file).metadata();
  expect(meta.format).toBe('png');
  expect([meta.width, meta.height]).toEqual([226, 320]); // A4 portrait, long side 320
  const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([data[0], data[1], data[2]]).toEqual([255, 255, 255]); // the page margin is white
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}
