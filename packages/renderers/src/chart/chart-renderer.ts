import { chartMeta } from './chart-meta.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_CHART_SIDE, MAX_RASTER_PIXELS, MAX_RASTER_SIDE, type ChartInput } from '@kiln/shared';
import { capsExceeded, defineRenderer, RenderError, throwIfAborted, type RenderContext, type RenderResult } from '../contract.js';
import { withAbortReason } from '../abort-reason.js';
import { writePreview, PREVIEW_LONG_SIDE } from '../preview-image.js';
import { rasterizeSvg } from '../image/rasterize-svg.js';
import { encodeImageTo } from '../image/encode-image.js';
import { findExternalReferences } from '../image/svg-safety.js';
import { assertOfflineSpec } from './chart-spec-safety.js';
import { assertChartInputCaps } from './chart-caps.js';
import { formatCount } from './chart-cap-report.js';
import { createOfflineLoader } from './offline-vega-loader.js';
import { readChartData } from './chart-data.js';
import { compileChart, createChartView, createLogCollector, prepareSpec } from './compile-chart.js';
import { useShippedFontMetrics } from './vega-text-metrics.js';


/**
 * `chart`: Vega-Lite rendered headlessly by vega (no browser, no canvas package) to SVG, and to PNG
 * through resvg with the shipped fonts. Nothing is fetched: URLs in the spec are refused, and the
 * vega loader refuses anything that slips past.
 */
export const chartRenderer = defineRenderer<ChartInput>({
  ...chartMeta,
  assetRefs(input) {
    return input.dataAssetId ? [input.dataAssetId] : [];
  },
  preflight(input) {
    // First, and before anything recursive reads the spec: the caps walk proves it shallow and
    // refuses what multiplies work (rows, views, size, generators) in time linear in its size.
    assertChartInputCaps(input);
    assertOfflineSpec(input.spec);
    if (input.dataAssetId && input.spec.data !== undefined) {
      throw new RenderError('validation_failed', 'Give chart data either in spec.data or as dataAssetId, not both.', {
        details: [{ path: ['input', 'spec', 'data'], message: 'must be absent when dataAssetId is set' }],
      });
    }
    // Compiling is cheap (milliseconds) and catches most spec mistakes before a job is queued.
    // The data asset's rows are not known yet; an empty table stands in for them.
    const { logger } = createLogCollector();
    try {
      const checked = { ...input, spec: withoutInlineRows(input.spec) };
      compileChart(prepareSpec(checked, input.dataAssetId ? [] : undefined), logger);
    } catch (err) {
      throw new RenderError('validation_failed', `Vega-Lite rejected the spec: ${(err as Error).message}`, {
        details: [{ path: ['input', 'spec'], message: (err as Error).message }],
      });
    }
  },
  render(input, ctx) {
    return withAbortReason(ctx.signal, () => renderChart(input, ctx));
  },
});

async function renderChart(input: ChartInput, ctx: RenderContext): Promise<RenderResult> {
  // The preflight ran at submit; the caps run again here because a job may reach a worker by
  // another road (an older queue entry, a nested render), and because only now are a data
  // asset's rows known: facet cells, flattened arrays and bin spans are checked against them.
  assertChartInputCaps(input);
  assertOfflineSpec(input.spec);
  let values: object[] | undefined;
  if (input.dataAssetId) {
    ctx.progress(0.05, 'data');
    values = await readChartData(ctx, input);
    throwIfAborted(ctx.signal);
    assertChartInputCaps(input, { records: values });
  }

  ctx.progress(0.2, 'compile');
  await useShippedFontMetrics();
  const { logger, warnings } = createLogCollector();
  const { loader, refused } = createOfflineLoader();
  let svg: string;
  try {
    const { runtime } = compileChart(prepareSpec(input, values), logger);
    const view = createChartView(runtime, { loader, logger });
    try {
      ctx.progress(0.35, 'layout');
      await view.runAsync();
      throwIfAborted(ctx.signal);
      ctx.progress(0.5, 'svg');
      svg = await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (err instanceof RenderError) throw err;
    throw new RenderError('render_failed', `Vega could not render the chart: ${(err as Error).message}`);
  }
  for (const w of warnings.slice(0, 20)) ctx.log(w);
  if (refused.length > 0) {
    throw new RenderError('render_failed', `The chart tried to load ${refused[0]}; charts may not load external resources.`);
  }
  const external = findExternalReferences(svg);
  if (external.length > 0) {
    throw new RenderError('render_failed', `The chart SVG refers to external resources (${external[0]}); refusing it.`);
  }
  throwIfAborted(ctx.signal);
  const { width, height } = svgSize(svg);
  assertRenderedSize(width, height, input);

  if (input.format === 'svg') {
    ctx.progress(0.6, 'write');
    const out = ctx.output({ role: 'primary', contentType: 'image/svg+xml', filename: 'chart.svg' });
    await pipeline(Readable.from(chunks(svg)), out, { signal: ctx.signal });
    ctx.progress(0.8, 'preview');
    // Rasterized at twice the preview size so the downscale stays crisp.
    const previewWidth = Math.ceil((2 * PREVIEW_LONG_SIDE * width) / Math.max(width, height));
    const { png } = await rasterizeSvg(svg, { width: previewWidth, signal: ctx.signal });
    const preview = await writePreview(ctx, png, { format: 'webp', filename: 'chart-preview.webp' });
    ctx.progress(1, 'done');
    return { metadata: { primary: { width: Math.round(width), height: Math.round(height), format: 'svg' }, preview } };
  }

  const pixelWidth = Math.max(1, Math.round(width * input.scale));
  const pixelHeight = Math.max(1, Math.round(height * input.scale));
  ctx.progress(0.6, 'rasterize');
  const raster = await rasterizeSvg(svg, { width: pixelWidth, signal: ctx.signal });
  throwIfAborted(ctx.signal);
  ctx.progress(0.8, 'encode');
  const out = ctx.output({ role: 'primary', contentType: 'image/png', filename: 'chart.png' });
  await encodeImageTo(raster.png, 'png', out, ctx.signal);
  ctx.progress(0.9, 'preview');
  const preview = await writePreview(ctx, raster.png, { format: 'webp', filename: 'chart-preview.webp' });
  ctx.progress(1, 'done');
  return { metadata: { primary: { width: raster.width, height: raster.height, format: 'png' }, preview } };
}

/**
 * The spec minus its inline rows: compiling does not look at them, and the preflight runs on the
 * API's thread, where copying megabytes of data values (~100 ms for 3 MB) would stall requests.
 */
function withoutInlineRows(spec: Record<string, unknown>): Record<string, unknown> {
  const data = spec.data as Record<string, unknown> | undefined;
  const datasets = spec.datasets as Record<string, unknown> | undefined;
  return {
    ...spec,
    ...(data && typeof data === 'object' && Array.isArray(data.values) ? { data: { ...data, values: [] } } : {}),
    ...(datasets && typeof datasets === 'object'
      ? { datasets: Object.fromEntries(Object.keys(datasets).map((k) => [k, []])) }
      : {}),
  };
}

/**
 * The laid-out chart against the side cap and, for PNG, the raster caps. The preflight bounds the
 * size from below (axes, legends and long labels are only known after layout); this is the exact
 * check, made before anything is written or rasterized. Over a cap is the input's doing, so it
 * fails as validation_failed, never retried.
 */
function assertRenderedSize(width: number, height: number, input: ChartInput): void {
  const at = ['input', 'spec'];
  const side = Math.max(width, height);
  const size = `${formatCount(width)} × ${formatCount(height)}`;
  if (side > MAX_CHART_SIDE) {
    throw capsExceeded([{ path: at, message: `the chart lays out at ${size} units (limit ${formatCount(MAX_CHART_SIDE)} a side)`, limit: MAX_CHART_SIDE, actual: side }]);
  }
  if (input.format !== 'png') return;
  const px = Math.max(1, Math.round(width * input.scale));
  const py = Math.max(1, Math.round(height * input.scale));
  const hint = 'lower scale or the chart size, or ask for SVG';
  if (Math.max(px, py) > MAX_RASTER_SIDE) {
    throw capsExceeded([{ path: at, message: `a ${px} × ${py} PNG is over ${formatCount(MAX_RASTER_SIDE)} pixels a side; ${hint}`, limit: MAX_RASTER_SIDE, actual: Math.max(px, py) }]);
  }
  if (px * py > MAX_RASTER_PIXELS) {
    throw capsExceeded([{ path: at, message: `a ${px} × ${py} PNG is over ${MAX_RASTER_PIXELS / 1e6} megapixels; ${hint}`, limit: MAX_RASTER_PIXELS, actual: px * py }]);
  }
}

function svgSize(svg: string): { width: number; height: number } {
  const open = /^<svg[^>]*>/.exec(svg)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(open)?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(open)?.[1]);
  if (!(width > 0 && height > 0)) throw new RenderError('render_failed', 'The chart has no size (is it empty?).');
  return { width, height };
}

/** The SVG string in 64 KiB pieces, so the output stream sees ordinary-sized writes. */
function* chunks(text: string, size = 64 * 1024): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}
