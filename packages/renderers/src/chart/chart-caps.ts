import {
  MAX_CHART_FACET_CELLS,
  MAX_CHART_ROWS,
  MAX_CHART_SIDE,
  MAX_CHART_VIEWS,
  MAX_RASTER_PIXELS,
  MAX_RASTER_SIDE,
  type ChartInput,
} from '@kiln/shared';
import { capsExceeded, RenderError } from '../contract.js';
import { createCapReport, formatCount, isFiniteNumber, isRecord, type ChartCapReport, type SpecPath } from './chart-cap-report.js';
import { recordsFlow } from './chart-data-sources.js';
import { createFieldStats } from './chart-field-stats.js';
import { emptyFlow, type Flow, type WalkContext } from './chart-flow.js';
import { scanChartSpec } from './chart-spec-scan.js';
import { walkView, type ViewDefaults } from './chart-view-walk.js';

export type { ChartCapReport, UnboundedInput } from './chart-cap-report.js';

export interface ChartCapOptions {
  /** Where the spec sits in the request, for the paths of what is found. */
  path: SpecPath;
  /** PNG output is held to the raster caps too, at `scale` pixels per unit. */
  format?: 'svg' | 'png';
  scale?: number;
  /**
   * The spec's top-level data comes from a data asset (at `path`, e.g. `['input', 'dataAssetId']`):
   * its `records` once read at render time; without them (at submit) the checks that need the
   * rows wait for the render.
   */
  asset?: { path: SpecPath; records?: readonly unknown[] };
}

/**
 * Walks a Vega-Lite spec for everything that multiplies the work of compiling and rendering it,
 * without compiling it: rows (inline, named datasets, sequence and graticule generators, rows
 * that transforms add), views (repeat, concat, layer), facet cells, view size in SVG units and,
 * for PNG, in pixels, bins, ticks, statistical transform work, number-format widths, costly
 * expression calls, projection resampling and nesting depth. Parameters that multiply work must
 * be plain numbers: a signal or expression in their place is reported as unbounded.
 *
 * Time and memory are linear in the spec's size (a 5 MB spec takes tens of milliseconds).
 *
 * @example
 * const { violations } = findChartCapViolations({ data: { sequence: { start: 0, stop: 1e9 } }, mark: 'point' }, { path: ['input', 'spec'] });
 * // violations[0]: { path: ['input', 'spec', 'data', 'sequence'], limit: 100000, actual: 1e9, message: '…' }
 */
export function findChartCapViolations(spec: unknown, options: ChartCapOptions): ChartCapReport {
  const reporter = createCapReport();
  if (!isRecord(spec)) return reporter.report;
  const at = options.path;
  // The scan proves the spec shallow; only then may the recursive view walk run.
  if (!scanChartSpec(spec, at, reporter)) return reporter.report;

  const ctx: WalkContext = {
    report: reporter,
    stats: createFieldStats(),
    datasets: isRecord(spec.datasets) ? spec.datasets : {},
    datasetsPath: [...at, 'datasets'],
    datasetFlows: new Map(),
    rowsReported: false,
    heldRows: 0,
  };
  let top: Flow | undefined;
  if (options.asset?.records) top = recordsFlow(options.asset.records, options.asset.path, ctx);
  else if (options.asset) top = { ...emptyFlow(), rows: 1, deferred: true };
  const totals = walkView(spec, at, top ?? emptyFlow(), { encoding: {}, defaults: viewDefaults(spec.config) }, ctx, top === undefined);

  for (const [name, dataset] of Object.entries(ctx.datasets)) {
    // Datasets no view names are still loaded.
    if (!ctx.datasetFlows.has(name)) ctx.heldRows += Array.isArray(dataset) ? dataset.length : 0;
  }
  const rows = totals.rows + ctx.heldRows;
  if (!ctx.rowsReported) reporter.over(at, MAX_CHART_ROWS, rows, () => `the chart's views draw ${formatCount(rows)} rows in all (each view counts the rows it draws)`);
  if (!totals.reported.views) reporter.over(at, MAX_CHART_VIEWS, totals.views, () => `the chart lays out ${formatCount(totals.views)} views`);
  if (!totals.reported.cells) reporter.over(at, MAX_CHART_FACET_CELLS, totals.cells, () => `the chart's facets make ${formatCount(totals.cells)} cells`);
  if (!totals.reported.size) checkOutputSize(spec, totals.width, totals.height, options, reporter);
  return reporter.report;
}

/**
 * Throws a non-retryable `validation_failed` RenderError listing what `findChartCapViolations`
 * found (caps as `CapViolation`s, unbounded inputs as `{path, message}`); returns when nothing was.
 */
export function assertChartCaps(spec: unknown, options: ChartCapOptions): void {
  const { violations, unbounded } = findChartCapViolations(spec, options);
  if (unbounded.length === 0) {
    if (violations.length > 0) throw capsExceeded(violations);
    return;
  }
  const first = violations[0]?.message ?? unbounded[0]!.message;
  throw new RenderError('validation_failed', `The chart spec asks for more work than Kiln can bound: ${first}`, {
    details: [...violations, ...unbounded],
  });
}

/**
 * The caps for a `chart` input (or a video's chart scene): its spec at `[...path, 'spec']`, its
 * data asset at `[...path, 'dataAssetId']` with the asset's `records` once they are read.
 */
export function assertChartInputCaps(input: ChartInput, options: { path?: SpecPath; records?: readonly unknown[] } = {}): void {
  const path = options.path ?? ['input'];
  assertChartCaps(input.spec, {
    path: [...path, 'spec'],
    format: input.format,
    scale: input.scale,
    ...(input.dataAssetId ? { asset: { path: [...path, 'dataAssetId'], ...(options.records ? { records: options.records } : {}) } } : {}),
  });
}

/**
 * The whole chart against the side cap and, for PNG, the raster caps. The size is a lower bound
 * (plot areas and padding; axes, legends and titles only add), so nothing is refused that would
 * have fitted; the rendered SVG is checked again.
 */
function checkOutputSize(spec: Record<string, unknown>, plotWidth: number, plotHeight: number, options: ChartCapOptions, reporter: ReturnType<typeof createCapReport>): void {
  const pad = padding(spec.padding);
  const width = plotWidth + pad.x;
  const height = plotHeight + pad.y;
  const at = options.path;
  if (reporter.over(at, MAX_CHART_SIDE, Math.max(width, height), () => `the chart is at least ${formatCount(width)} × ${formatCount(height)} units`)) return;
  if (options.format !== 'png') return;
  const scale = options.scale ?? 1;
  const px = Math.ceil(width * scale);
  const py = Math.ceil(height * scale);
  if (reporter.over(at, MAX_RASTER_SIDE, Math.max(px, py), () => `at scale ${scale} the PNG is at least ${formatCount(px)} × ${formatCount(py)} pixels; lower scale or the size, or ask for SVG`)) return;
  reporter.over(at, MAX_RASTER_PIXELS, px * py, () => `at scale ${scale} the PNG is at least ${formatCount(px)} × ${formatCount(py)} = ${formatCount(px * py)} pixels; lower scale or the size, or ask for SVG`);
}

function padding(value: unknown): { x: number; y: number } {
  if (isFiniteNumber(value)) return { x: 2 * Math.max(0, value), y: 2 * Math.max(0, value) };
  if (!isRecord(value)) return { x: 0, y: 0 };
  const side = (k: string) => (isFiniteNumber(value[k]) ? Math.max(0, value[k] as number) : 0);
  return { x: side('left') + side('right'), y: side('top') + side('bottom') };
}

/** Vega-Lite's default view sizes, as the spec's `config.view` overrides them. */
function viewDefaults(config: unknown): ViewDefaults {
  const view = isRecord(config) && isRecord(config.view) ? config.view : {};
  const discrete = (v: unknown) => (isFiniteNumber(v) ? v : isRecord(v) && isFiniteNumber(v.step) ? { step: v.step } : { step: 20 });
  return {
    continuousWidth: isFiniteNumber(view.continuousWidth) ? view.continuousWidth : 200,
    continuousHeight: isFiniteNumber(view.continuousHeight) ? view.continuousHeight : 200,
    discreteWidth: discrete(view.discreteWidth),
    discreteHeight: discrete(view.discreteHeight),
  };
}
