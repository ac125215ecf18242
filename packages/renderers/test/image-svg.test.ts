import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imageRenderer } from '../src/image/image-renderer.js';
import { findExternalReferences } from '../src/image/svg-safety.js';
import { useRenderRuns } from './support/render-runs.js';

const { newRun } = useRenderRuns();

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">${body}</svg>`;

describe('image renderer, svg mode', () => {
  it('renders PNG with the requested width and the right pixels', async () => {
    const run = await newRun();
    const input = imageRenderer.inputSchema.parse({
      svg: svg('<rect width="200" height="100" fill="#ff0000"/><text x="10" y="60" font-size="30" fill="#fff">Hi</text>'),
      width: 400,
    });
    const result = await imageRenderer.render(input, run.ctx);
    await run.settled();
    const out = run.outputFor('primary')!;
    expect(out.contentType).toBe('image/png');
    const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(400);
    expect(info.height).toBe(200);
    expect([data[0], data[1], data[2]]).toEqual([255, 0, 0]);
    expect(result).toMatchObject({ metadata: { primary: { width: 400, height: 200, format: 'png' } } });
    expect(run.progress.at(-1)?.fraction).toBe(1);
  });

  it('draws text with the shipped fonts (white pixels appear where the text is)', async () => {
    const run = await newRun();
    const input = imageRenderer.inputSchema.parse({
      svg: svg('<rect width="200" height="100" fill="#000"/><text x="10" y="70" font-size="60" fill="#fff">WWW</text>'),
    });
    await imageRenderer.render(input, run.ctx);
    await run.settled();
    const stats = await sharp(run.outputFor('primary')!.path).stats();
    expect(stats.channels[0]!.max).toBeGreaterThan(200);
  });

  it.each(['webp', 'jpeg'] as const)('encodes %s', async (format) => {
    const run = await newRun();
    const input = imageRenderer.inputSchema.parse({ svg: svg('<circle cx="50" cy="50" r="40" fill="blue"/>'), format });
    await imageRenderer.render(input, run.ctx);
    await run.settled();
    const meta = await sharp(run.outputFor('primary')!.path).metadata();
    expect(meta.format).toBe(format);
  });

  it('refuses external references instead of reading them', () => {
    expect(findExternalReferences(svg('<image href="file:///etc/passwd" width="10" height="10"/>'))).toHaveLength(1);
    expect(findExternalReferences(svg('<image xlink:href="/etc/hostname"/>'))).toHaveLength(1);
    expect(findExternalReferences(svg('<image href="https://example.com/a.png"/>'))).toHaveLength(1);
    expect(findExternalReferences(svg('<rect style="fill:url(http://x/y#z)"/>'))).toHaveLength(1);
    expect(findExternalReferences('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + svg(''))).not.toHaveLength(0);
    expect(findExternalReferences(svg('<use href="#a"/><rect fill="url(#g)"/><image href="data:image/png;base64,AAAA"/>'))).toEqual([]);
    expect(() => imageRenderer.preflight!(imageRenderer.inputSchema.parse({ svg: svg('<image href="/etc/passwd"/>') }))).toThrow(
      /external/,
    );
  });
});
