import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { z } from 'zod';
import { chartRenderer } from '../src/chart/chart-renderer.js';
import { compileChart, createChartView, createLogCollector } from '../src/chart/compile-chart.js';
import { createOfflineLoader } from '../src/chart/offline-vega-loader.js';
import type { FileAsset } from '../src/testing/file-render-context.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun, fixtureFile } = useRenderRuns();

const parse = (input: unknown) => chartRenderer.inputSchema.parse(input);

const rows = [
  { city: 'Lisbon', visits: 12 },
  { city: 'Oslo', visits: 30 },
  { city: 'Quito', visits: 7 },
  { city: 'Hanoi', visits: 21 },
];

const barSpec = (extra: Record<string, unknown> = {}) => ({
  width: 300,
  height: 200,
  mark: 'bar',
  encoding: {
    x: { field: 'city', type: 'nominal', title: 'City of origin' },
    y: { field: 'visits', type: 'quantitative', title: 'Visits per week' },
  },
  ...extra,
});

const render = (input: unknown, assets: FileAsset[] = []) => renderWith(chartRenderer, input, newRun, assets);

async function fileAsset(name: string, contents: string, contentType: string): Promise<FileAsset> {
  const { id, path: file } = fixtureFile(`-${name}`);
  await writeFile(file, contents);
  return { id, path: file, contentType };
}

/** The bars vega drew: one <path> per datum inside the rect mark group. */
function barCount(svg: string): number {
  const group = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
  return group.match(/<path /g)?.length ?? 0;
}

async function expectPreview(file: string) {
  const meta = await sharp(file).metadata();
  expect(meta.format).toBe('webp');
  expect(Math.max(meta.width!, meta.height!)).toBe(320);
}

describe('chart renderer', () => {
  it('renders the example to PNG with a WebP preview', async () => {
    const { primary, preview, result } = await render(chartRenderer.example);
    const meta = await sharp(primary.path).metadata();
    expect(meta.format).toBe('png');
    expect(result).toMatchObject({ metadata: { primary: { width: meta.width, height: meta.height, format: 'png' } } });
    await expectPreview(preview.path);
  });

  it('draws SVG with the axis titles and one mark per datum', async () => {
    const { primary, preview, result, run } = await render({ spec: barSpec({ data: { values: rows } }), format: 'svg' });
    expect(primary.contentType).toBe('image/svg+xml');
    const svg = await readFile(primary.path, 'utf8');
    expect(svg).toContain('>City of origin</text>');
    expect(svg).toContain('>Visits per week</text>');
    for (const r of rows) expect(svg).toContain(`>${r.city}</text>`);
    expect(barCount(svg)).toBe(rows.length);
    expect(svg).toContain('font-family="DejaVu Sans');
    expect(result).toMatchObject({ metadata: { primary: { format: 'svg' } } });
    await expectPreview(preview.path);
    expect(run.progress.map((p) => p.stage)).toEqual(['compile', 'layout', 'svg', 'write', 'preview', 'done']);
  });

  it('rasterizes PNG at the scale factor', async () => {
    const svgRun = await render({ spec: barSpec({ data: { values: rows } }), format: 'svg' });
    const pngRun = await render({ spec: barSpec({ data: { values: rows } }), format: 'png', scale: 3 });
    const svgMeta = (svgRun.result as { metadata: { primary: { width: number; height: number } } }).metadata.primary;
    const png = await sharp(pngRun.primary.path).metadata();
    expect(png.width).toBe(svgMeta.width * 3);
    expect(png.height).toBe(svgMeta.height * 3);
  });

  it.each([
    ['csv', 'city,visits\nLisbon,12\nOslo,30\nQuito,7\nHanoi,21\n', 'text/csv'],
    ['json', JSON.stringify(rows), 'application/json'],
  ])('reads data from a %s asset of the company', async (kind, contents, contentType) => {
    const asset = await fileAsset(`data.${kind}`, contents, contentType);
    const input = { spec: barSpec(), dataAssetId: asset.id, format: 'svg' };
    expect(chartRenderer.assetRefs!(parse(input))).toEqual([asset.id]);
    const { primary } = await render(input, [asset]);
    const svg = await readFile(primary.path, 'utf8');
    expect(barCount(svg)).toBe(4);
    // Numbers were parsed: the quantitative axis has ticks up to 30.
    expect(svg).toContain('>30</text>');
  });

  it('refuses URLs anywhere in the spec, before queueing and at render time', async () => {
    const specs = [
      { ...barSpec(), data: { url: 'https://example.com/data.csv' } },
      { ...barSpec(), data: { url: 'file:///etc/passwd' } },
      { ...barSpec(), data: { url: '/etc/passwd', format: { type: 'csv' } } },
      {
        data: { values: [{ u: 'x' }] },
        mark: 'image',
        encoding: { url: { value: 'https://example.com/a.png' } },
      },
      {
        data: { values: rows },
        transform: [{ lookup: 'city', from: { data: { url: 'https://example.com/x.json' }, key: 'city', fields: ['x'] } }],
        ...barSpec(),
      },
      { layer: [{ data: { url: 'https://example.com/a.csv' }, ...barSpec() }] },
      { ...barSpec({ data: { values: rows } }), encoding: { href: { field: 'city' }, x: { field: 'city' } } },
    ];
    for (const spec of specs) {
      const input = parse({ spec });
      expect(() => chartRenderer.preflight!(input), JSON.stringify(spec)).toThrow(
        expect.objectContaining({ code: 'validation_failed' }),
      );
      const run = await newRun();
      await expect(chartRenderer.render(input, run.ctx)).rejects.toMatchObject({ code: 'validation_failed' });
      expect(run.outputs).toHaveLength(0);
    }
    // A data column that happens to be called "url" is just data.
    const ok = parse({ spec: barSpec({ data: { values: rows.map((r) => ({ ...r, url: 'https://example.com' })) } }) });
    expect(() => chartRenderer.preflight!(ok)).not.toThrow();
  });

  it('gives vega a loader that loads nothing, should a URL get past the spec check', async () => {
    const { logger } = createLogCollector();
    const { loader, refused } = createOfflineLoader();
    const spec = { ...barSpec(), data: { url: 'http://127.0.0.1:9/data.csv' } };
    const view = createChartView(compileChart(spec, logger).runtime, { loader, logger });
    await view.runAsync();
    view.finalize();
    expect(refused).toEqual(['http://127.0.0.1:9/data.csv']);
  });

  it('rejects a spec Vega-Lite cannot compile before queueing, with the library message', () => {
    const input = parse({ spec: { data: { values: rows }, mark: 'bar', encoding: { x: { field: 'city', type: 'nonsense' } } } });
    expect(() => chartRenderer.preflight!(input)).toThrow(
      expect.objectContaining({ code: 'validation_failed', message: expect.stringMatching(/Vega-Lite rejected the spec: .+/) }),
    );
    const both = parse({ spec: barSpec({ data: { values: rows } }), dataAssetId: randomUUID() });
    expect(() => chartRenderer.preflight!(both)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('fails the job with render_failed and the library message when rendering fails', async () => {
    const run = await newRun();
    const input = parse({ spec: barSpec({ data: { values: rows }, transform: [{ filter: 'nosuchfunction(datum.visits)' }] }) });
    await expect(chartRenderer.render(input, run.ctx)).rejects.toMatchObject({
      code: 'render_failed',
      message: expect.stringContaining('nosuchfunction'),
    });
  });

  it('fails on a data asset it cannot read and on a foreign asset id', async () => {
    const bad = await fileAsset('data.json', '{"not":"an array"}', 'application/json');
    let run = await newRun({ assets: [bad] });
    await expect(chartRenderer.render(parse({ spec: barSpec(), dataAssetId: bad.id }), run.ctx)).rejects.toMatchObject({
      code: 'render_failed',
    });
    run = await newRun();
    await expect(chartRenderer.render(parse({ spec: barSpec(), dataAssetId: randomUUID() }), run.ctx)).rejects.toMatchObject({
      code: 'asset_not_found',
    });
  });

  it('stops promptly when aborted and leaves no complete output', async () => {
    const points = Array.from({ length: 20_000 }, (_, i) => ({ x: Math.sin(i) * 100, y: Math.cos(i * 1.3) * 100 }));
    const input = parse({
      spec: {
        width: 1200,
        height: 900,
        data: { values: points },
        mark: 'circle',
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      format: 'png',
      scale: 4,
    });
    const run = await newRun();
    const started = Date.now();
    const rendering = chartRenderer.render(input, run.ctx);
    setTimeout(() => run.abort(new DOMException('canceled', 'AbortError')), 50);
    await expect(rendering).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(3_000);
    await run.settled();
    for (const out of run.outputs) await expect(sharp(out.path).metadata()).rejects.toThrow();
  });

  it('publishes a JSON Schema for its input', () => {
    const schema = z.toJSONSchema(chartRenderer.inputSchema, { io: 'input' }) as { required?: string[] };
    expect(schema.required).toEqual(['spec']);
  });
});
