import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { z } from 'zod';
import { imageRenderer } from '../src/image/image-renderer.js';
import type { FileAsset } from '../src/testing/file-render-context.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun, fixtureFile } = useRenderRuns();

const parse = (input: unknown) => imageRenderer.inputSchema.parse(input);

// Render only, no preflight (as these tests always have): the tests of refusals call preflight and render each on its own.
const render = (input: unknown, assets: FileAsset[] = []) => renderWith(imageRenderer, input, newRun, assets, { preflight: false });

async function pngAsset(color: string, size = 64, contentType = 'image/png'): Promise<FileAsset> {
  const { id, path: file } = fixtureFile('.png');
  await sharp({ create: { width: size, height: size, channels: 3, background: color } }).png().toFile(file);
  return { id, path: file, contentType };
}

async function pixel(file: string, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

describe('image renderer, card mode', () => {
  it('renders the example: a 1200×630 PNG with the theme background and a 320 px WebP preview', async () => {
    const { result, primary, preview, run } = await render(imageRenderer.example);
    expect(primary.contentType).toBe('image/png');
    const meta = await sharp(primary.path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1200, 630]);
    // The corner is background (#0f172a), inside the padding where nothing is drawn.
    expect(await pixel(primary.path, 10, 10)).toEqual([0x0f, 0x17, 0x2a]);
    // Text is drawn: the light theme text colour appears somewhere.
    const stats = await sharp(primary.path).stats();
    expect(stats.channels[0]!.max).toBeGreaterThan(200);

    expect(preview.contentType).toBe('image/webp');
    const previewMeta = await sharp(preview.path).metadata();
    expect([previewMeta.format, previewMeta.width, previewMeta.height]).toEqual(['webp', 320, 168]);
    expect(result).toEqual({
      metadata: {
        primary: { width: 1200, height: 630, format: 'png' },
        preview: { width: 320, height: 168, format: 'webp' },
      },
    });
    expect(run.progress.map((p) => p.stage)).toEqual(['layout', 'rasterize', 'encode', 'preview', 'done']);
  });

  it.each([
    ['square', 'webp', 1080, 1080],
    ['story', 'jpeg', 1080, 1920],
    [{ width: 500, height: 260 }, 'avif', 500, 260],
  ] as const)('size %j in %s', async (size, format, width, height) => {
    const { primary, preview, result } = await render({ mode: 'card', title: 'Sized', subtitle: 'card', size, format });
    const meta = await sharp(primary.path).metadata();
    expect(meta.format).toBe(format === 'avif' ? 'heif' : format); // sharp reports AVIF as its HEIF container
    expect([meta.width, meta.height]).toEqual([width, height]);
    expect(result).toMatchObject({ metadata: { primary: { width, height, format } } });
    const previewMeta = await sharp(preview.path).metadata();
    expect(Math.max(previewMeta.width!, previewMeta.height!)).toBe(320);
  });

  it('shrinks long text to fit and never draws into the padding', async () => {
    const body = 'Every word of this body must stay on the canvas, however long it gets. '.repeat(26).trim();
    const { primary, run } = await render({ mode: 'card', title: 'A long card', subtitle: 'with a lot to say', body, theme: { background: '#000000' } });
    expect(run.logs.join('\n')).toMatch(/shrunk to \d+%/);
    expect(run.warnings).toEqual([expect.stringMatching(/^card text shrunk to \d+% to fit$/)]);
    const { data, info } = await sharp(primary.path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // The padding is 7 % of the short side (44 px here): its outer 40 px rows/columns stay black.
    let drawn = 0;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const inPadding = x < 40 || y < 40 || x >= info.width - 40 || y >= info.height - 40;
        if (inPadding && data[(y * info.width + x) * 3]! > 40) drawn++;
      }
    }
    expect(drawn).toBe(0);
  });

  it('wraps a long unbreakable word instead of running off the canvas', async () => {
    const { primary } = await render({
      mode: 'card',
      title: 'https://example.com/' + 'averyverylongpathsegmentwithoutbreaks'.repeat(4),
      size: { width: 600, height: 400 },
      theme: { background: '#000000' },
    });
    // Padding is 28 px; the outer 26 px columns on the right stay background.
    const right = await sharp(primary.path).extract({ left: 600 - 26, top: 0, width: 26, height: 400 }).removeAlpha().raw().toBuffer();
    expect(Math.max(...right)).toBeLessThan(40);
  });

  it('refuses text that cannot fit instead of cutting it off', async () => {
    const input = parse({ mode: 'card', title: 'Too much', body: 'word '.repeat(399).trim(), size: { width: 200, height: 120 } });
    await expect(Promise.resolve().then(() => imageRenderer.preflight!(input))).rejects.toMatchObject({
      code: 'validation_failed',
    });
    const run = await newRun();
    await expect(imageRenderer.render(input, run.ctx)).rejects.toMatchObject({
      code: 'render_failed',
      message: expect.stringMatching(/does not fit/),
    });
    expect(run.outputs).toHaveLength(0);
  });

  it('refuses characters the shipped font cannot draw rather than dropping them', async () => {
    const input = parse({ mode: 'card', title: 'Launch 🚀 day', body: 'Ünïcödé → fine; 漢字 not' });
    await expect(Promise.resolve(imageRenderer.preflight!(input))).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [{ path: ['input', 'title'], message: expect.stringContaining('🚀') }] },
    });
    const run = await newRun();
    await expect(imageRenderer.render(input, run.ctx)).rejects.toMatchObject({
      code: 'render_failed',
      message: expect.stringContaining('🚀'),
    });
    expect(run.outputs).toHaveLength(0);
  });

  it('draws a background and a logo from assets of the company', async () => {
    const background = await pngAsset('#ff0000', 300);
    const logo = await pngAsset('#00ff00', 200);
    const input = {
      mode: 'card',
      title: 'With pictures',
      backgroundAssetId: background.id,
      logoAssetId: logo.id,
      backgroundOverlay: 0,
      size: { width: 800, height: 400 },
    };
    expect(imageRenderer.assetRefs!(parse(input))).toEqual([logo.id, background.id]);
    const { primary } = await render(input, [background, logo]);
    // Background covers the whole canvas, corners included.
    expect(await pixel(primary.path, 2, 2)).toEqual([255, 0, 0]);
    expect(await pixel(primary.path, 797, 397)).toEqual([255, 0, 0]);
    // The logo sits at the top left inside the padding (28 px), 44 px tall.
    expect(await pixel(primary.path, 40, 40)).toEqual([0, 255, 0]);
  });

  it('refuses an SVG asset with external references and a foreign asset id', async () => {
    const { id, path: file } = fixtureFile('.svg');
    await writeFile(file, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>');
    const evil: FileAsset = { id, path: file, contentType: 'image/svg+xml' };
    let run = await newRun({ assets: [evil] });
    await expect(imageRenderer.render(parse({ mode: 'card', title: 'x', logoAssetId: id }), run.ctx)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    run = await newRun();
    await expect(imageRenderer.render(parse({ mode: 'card', title: 'x', backgroundAssetId: randomUUID() }), run.ctx)).rejects.toMatchObject({
      code: 'asset_not_found',
    });
  });

  it('holds SVG assets to the SVG caps at the width they are drawn', async () => {
    // A 1×1000 viewBox drawn wide enough for a logo is hundreds of thousands of pixels tall.
    const { id, path: file } = fixtureFile('.svg');
    await writeFile(file, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1000"><rect width="1" height="1000"/></svg>');
    const run = await newRun({ assets: [{ id, path: file, contentType: 'image/svg+xml' }] });
    const err = await imageRenderer.render(parse({ mode: 'card', title: 'x', logoAssetId: id }), run.ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'validation_failed', options: { details: expect.arrayContaining([expect.objectContaining({ path: ['input', 'logoAssetId'], limit: 16_384 })]) } });
  });

  it('stops promptly when aborted and leaves no complete output', async () => {
    const run = await newRun();
    const input = parse({ mode: 'card', title: 'Big', body: 'text '.repeat(300), size: { width: 4096, height: 4096 }, format: 'avif' });
    const started = Date.now();
    const rendering = imageRenderer.render(input, run.ctx);
    setTimeout(() => run.abort(new DOMException('canceled', 'AbortError')), 20);
    await expect(rendering).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await run.settled();
    for (const out of run.outputs) await expect(sharp(out.path).metadata()).rejects.toThrow();
  });

  it('keeps svg mode the default and rejects unknown modes', () => {
    expect(parse({ svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' })).toMatchObject({ mode: 'svg', format: 'png' });
    expect(imageRenderer.inputSchema.safeParse({ mode: 'poster', title: 'x' }).success).toBe(false);
    expect(imageRenderer.inputSchema.safeParse({ mode: 'card', title: 'x', theme: { background: 'red;}' } }).success).toBe(false);
    expect(() => z.toJSONSchema(imageRenderer.inputSchema, { io: 'input' })).not.toThrow();
  });
});
