import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { PDFDocument } from 'pdf-lib';
import { z } from 'zod';
import { MAX_MARKDOWN_CHARS } from '@kiln/shared';
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
const pageText = async (file: string, page: number) =>
  (await run('pdftotext', ['-layout', '-f', String(page), '-l', String(page), file, '-'])).stdout;
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
    const { primary, preview, result, run: ctx } = await render(renderer.example);
    expect(ctx.warnings).toEqual([]);
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

  it('starts a new page at each \\pagebreak and <!-- pagebreak --> line, in the PDF and in print from HTML', async () => {
    const markdown = [
      '# First page',
      '',
      'Alpha text.',
      '\\pagebreak', // inside a paragraph: cuts it in two
      'Bravo text on page two.',
      '',
      '\\pagebreak',
      '',
      '## Third',
      '',
      'Charlie text.',
      '',
      '<!-- pagebreak -->',
      'Delta text on page four.',
    ].join('\n');
    const { primary, result, run: ctx } = await render({ markdown });
    expect(await pdfInfo(primary.path)).toMatch(/Pages:\s+4\n/);
    expect(result).toMatchObject({ metadata: { primary: { pages: 4 } } });
    const pages = await Promise.all([1, 2, 3, 4].map((p) => pageText(primary.path, p)));
    const expected = [['First page', 'Alpha text.'], ['Bravo text on page two.'], ['Third', 'Charlie text.'], ['Delta text on page four.']];
    const everything = expected.flat();
    pages.forEach((text, i) => {
      for (const s of everything) {
        if (expected[i]!.includes(s)) expect(text, `page ${i + 1}`).toContain(s);
        else expect(text, `page ${i + 1}`).not.toContain(s);
      }
      expect(text).toMatch(new RegExp(`\\b${i + 1}\\s*/\\s*4\\b`));
      expect(text).not.toContain('pagebreak');
    });
    expect(ctx.warnings).toEqual([]);

    const html = await readFile((await render({ markdown, format: 'html' })).primary.path, 'utf8');
    expect(html.match(/<div class="page-break"[^>]*><\/div>/g)).toHaveLength(3);
    expect(html).toContain('.page-break { break-after: page; }');
    expect(html).not.toMatch(/\\pagebreak|&#60;!-- pagebreak/);
  });

  it('warns once per kind about what it does not render as written', async () => {
    const { id, path: file } = fixtureFile('.png');
    await sharp({ create: { width: 900, height: 300, channels: 3, background: '#0000ff' } }).png().toFile(file);
    const markdown = [
      '# Notes',
      '',
      'Inline <b>bold</b> and <span>span</span> tags.',
      '',
      '<div>block</div>',
      '',
      '[bad](javascript:alert(1)), [file](file:///etc/passwd), [again](javascript:alert(1)) and [ok](https://example.com).',
      '',
      '[up](#notes) and [gone](#missing).',
      '',
      `![wide](asset:${id})`,
      '',
      '| a | b |',
      '| - | - |',
      '| 1 | 2 | 3 | 4 |',
      '',
      '- item',
      '',
      '  \\pagebreak',
      '',
      '```js',
      'never closed',
    ].join('\n');
    const { run: ctx, primary } = await render({ markdown }, [{ id, path: file, contentType: 'image/png' }]);
    expect(ctx.warnings).toEqual([
      'Raw HTML is shown as text, never interpreted: 5 places (<b>, <span>, <div>). Write it in Markdown instead; images are ![alt](asset:<asset id>).',
      '2 link targets shown as plain text, since only http(s), mailto and #heading links are kept: javascript:alert(1), file:///etc/passwd.',
      '1 link to a heading that does not exist: #missing.',
      '1 page break inside a list or quote shown as text; put \\pagebreak or <!-- pagebreak --> on a line of its own outside lists and quotes.',
      "2 table cells beyond the header's columns dropped; give the header as many cells as the widest row.",
      '1 code block never closed, so everything after its opening fence is shown as code; end it with a matching ``` line.',
      `1 image is wider than the 657 px text column and scaled down to fit: ${id} (900×300 px). Use landscape, smaller margins or narrower images to show them at full size.`,
    ]);
    // What the warnings describe is what the PDF shows.
    const text = await pdfText(primary.path);
    expect(text).toContain('<b>bold</b>');
    expect(text).toMatch(/bad, file, again and ok/);
    expect(text).toContain('\\pagebreak');
    expect(text).not.toMatch(/\b3\s+4\b/);
    // In landscape the column (986 px) is wide enough: no image warning.
    const landscape = await render({ markdown: `![wide](asset:${id})`, orientation: 'landscape' }, [{ id, path: file, contentType: 'image/png' }]);
    expect(landscape.run.warnings).toEqual([]);
  });

  it('stops promptly when aborted, closing the page, and writes no output', async () => {
    // Near the size cap: ~92,000 characters, 1,100 rows.
    const rows = Array.from({ length: 1100 }, (_, i) => `| row ${i} | ${'cell text '.repeat(6)} | ${i} |`).join('\n');
    const input = parse({ markdown: `# Big\n\n| a | b | c |\n| - | - | - |\n${rows}` });
    const ctx = await newRun();
    const rendering = renderer.render(input, ctx.ctx);
    // Abort once Chromium is busy laying out or printing.
    await waitFor(() => ctx.progress.some((p) => p.stage === 'layout'));
    await new Promise((r) => setTimeout(r, 200));
    expect(['layout', 'print']).toContain(ctx.progress.at(-1)?.stage); // Chromium is mid-job (a full run takes ~2 s)
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
    const schema = z.toJSONSchema(renderer.inputSchema, { io: 'input' }) as unknown as { properties: { markdown: { maxLength: number; description: string } } };
    expect(schema.properties.markdown.maxLength).toBe(MAX_MARKDOWN_CHARS);
    expect(schema.properties.markdown.description).toMatch(/\\pagebreak.*<!-- pagebreak -->.*100000 characters; 32 nested/s);
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
