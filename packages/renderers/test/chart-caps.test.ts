import { writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  MAX_CHART_BINS,
  MAX_CHART_EXPRESSION_SEQUENCE,
  MAX_CHART_FACET_CELLS,
  MAX_CHART_PAD_WIDTH,
  MAX_CHART_PROJECTION_SCALE,
  MAX_CHART_ROWS,
  MAX_CHART_SIDE,
  MAX_CHART_SPEC_DEPTH,
  MAX_CHART_TICKS,
  MAX_CHART_TRANSFORM_WORK,
  MAX_CHART_VIEWS,
  MAX_RASTER_PIXELS,
  MAX_RASTER_SIDE,
  MIN_CHART_PROJECTION_PRECISION,
} from '@kiln/shared';
import { chartRenderer } from '../src/chart/chart-renderer.js';
import { findChartCapViolations } from '../src/chart/chart-caps.js';
import { readChartData } from '../src/chart/chart-data.js';
import { createRowCounter } from '../src/chart/chart-data-rows.js';
import { videoRenderer } from '../src/video/video-renderer.js';
import type { RenderError } from '../src/contract.js';
import type { FileAsset } from '../src/testing/file-render-context.js';
import { useRenderRuns } from './support/render-runs.js';

const { newRun, fixtureFile } = useRenderRuns();

const parse = (input: unknown) => chartRenderer.inputSchema.parse(input);
const preflight = (input: unknown) => chartRenderer.preflight!(parse(input));

/** The error a preflight throws (failing the test if it accepts). */
function refusal(input: unknown): RenderError {
  try {
    preflight(input);
  } catch (err) {
    return err as RenderError;
  }
  throw new Error(`accepted: ${JSON.stringify(input).slice(0, 200)}`);
}

/** Refused as validation_failed (never retried) with a detail at `path` over `limit` by `actual`. */
function expectCap(input: unknown, path: (string | number)[], limit: number, actual?: number) {
  const err = refusal(input);
  expect(err).toMatchObject({ code: 'validation_failed', retryable: false });
  expect(err.options.details).toContainEqual(
    expect.objectContaining({ path, limit, ...(actual === undefined ? {} : { actual }), message: expect.any(String) }),
  );
  return err;
}

/** Refused because a parameter that multiplies work is not a plain number. */
function expectUnbounded(input: unknown, path: (string | number)[]) {
  const err = refusal(input);
  expect(err).toMatchObject({ code: 'validation_failed' });
  expect(err.options.details).toContainEqual({ path, message: expect.any(String) });
}

const spec = (s: Record<string, unknown>) => ({ spec: s, format: 'svg' as const });
const rowsOf = (n: number, row: (i: number) => unknown = (i) => ({ x: i, y: i % 7 })) => Array.from({ length: n }, (_, i) => row(i));
const point = { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
const S = ['input', 'spec'];

describe('chart caps: generated and inline rows', () => {
  it('refuses a sequence of a billion rows, and counts a step of 0 as Vega does (as 1)', () => {
    expectCap(spec({ data: { sequence: { start: 0, stop: 1e9 } }, ...point }), [...S, 'data', 'sequence'], MAX_CHART_ROWS, 1e9);
    expectCap(spec({ data: { sequence: { start: 0, stop: 1e9, step: 0 } }, ...point }), [...S, 'data', 'sequence'], MAX_CHART_ROWS, 1e9);
    expectCap(spec({ data: { sequence: { start: 1e9, stop: 0, step: -1 } }, ...point }), [...S, 'data', 'sequence'], MAX_CHART_ROWS, 1e9);
    // A step pointing away from stop makes no rows at all.
    expect(() => preflight(spec({ data: { sequence: { start: 0, stop: 1e9, step: -1 } }, ...point }))).not.toThrow();
    expect(() => preflight(spec({ data: { sequence: { start: 0, stop: MAX_CHART_ROWS, as: 'x' } }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } }))).not.toThrow();
    expectCap(spec({ data: { sequence: { start: 0, stop: MAX_CHART_ROWS + 1 } }, ...point }), [...S, 'data', 'sequence'], MAX_CHART_ROWS, MAX_CHART_ROWS + 1);
  });

  it('refuses generator parameters given as signals or expressions', () => {
    expectUnbounded(spec({ data: { sequence: { start: 0, stop: { signal: 'n' } } }, ...point }), [...S, 'data', 'sequence']);
    expectUnbounded(spec({ data: { graticule: { step: { expr: 'n' } } }, mark: 'geoshape' }), [...S, 'data', 'graticule', 'step']);
  });

  it('counts a graticule by its points: a 0.0001° step is refused, a 15° one accepted', () => {
    const err = expectCap(spec({ data: { graticule: { step: [1e-4, 1e-4] } }, mark: 'geoshape' }), [...S, 'data', 'graticule'], MAX_CHART_ROWS);
    expect((err.options.details as { actual: number }[])[0]!.actual).toBeGreaterThan(5e8);
    expectCap(spec({ data: { graticule: { precision: 1e-3 } }, mark: 'geoshape' }), [...S, 'data', 'graticule'], MAX_CHART_ROWS);
    expect(() => preflight(spec({ data: { graticule: { step: [15, 15] } }, mark: 'geoshape', projection: { type: 'orthographic' } }))).not.toThrow();
  });

  it('refuses inline rows over the cap anywhere in the spec: layers, concat, facet children, datasets', () => {
    const many = rowsOf(MAX_CHART_ROWS + 1, (i) => i);
    expectCap(spec({ layer: [{ data: { values: many }, mark: 'point' }] }), [...S, 'layer', 0, 'data', 'values'], MAX_CHART_ROWS, MAX_CHART_ROWS + 1);
    expectCap(spec({ hconcat: [{ mark: 'point' }, { data: { values: many }, mark: 'point' }] }), [...S, 'hconcat', 1, 'data', 'values'], MAX_CHART_ROWS);
    expectCap(spec({ datasets: { big: many }, data: { name: 'big' }, mark: 'point' }), [...S, 'datasets', 'big'], MAX_CHART_ROWS);
    // Inline CSV text counts by its records.
    const csv = `x\n${many.join('\n')}\n`;
    expectCap(spec({ data: { values: csv, format: { type: 'csv' } }, mark: 'point' }), [...S, 'data', 'values'], MAX_CHART_ROWS, MAX_CHART_ROWS + 1);
  });

  it('counts rows per view: three layers over 40,000 rows draw 120,000; over 30,000, 90,000', () => {
    const layered = (n: number) => spec({
      data: { values: rowsOf(n) },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      layer: [{ mark: 'point' }, { mark: 'line' }, { mark: 'tick' }],
    });
    expectCap(layered(40_000), S, MAX_CHART_ROWS, 120_000);
    expect(findChartCapViolations(layered(30_000).spec, { path: S }).violations).toEqual([]);
  });

  it('refuses transforms that multiply rows past the cap', () => {
    const data = { values: rowsOf(1000) };
    const t = (transform: object[]) => spec({ data, transform, ...point });
    expectCap(t([{ fold: Array.from({ length: 200 }, (_, i) => `f${i}`) }]), [...S, 'transform', 0, 'fold'], MAX_CHART_ROWS, 200_000);
    expectCap(t([{ density: 'x', steps: 1e7 }]), [...S, 'transform', 0, 'density'], MAX_CHART_ROWS, 1e7 + 1);
    expectCap(t([{ quantile: 'x', step: 1e-9 }]), [...S, 'transform', 0, 'quantile'], MAX_CHART_ROWS);
    expectCap(t([{ impute: 'y', key: 'x', keyvals: { start: 0, stop: 1e9 } }]), [...S, 'transform', 0, 'keyvals'], MAX_CHART_ROWS);
    expectCap(t([{ pivot: 'x', value: 'y', groupby: ['x'] }]), [...S, 'transform', 0, 'pivot'], MAX_CHART_ROWS, 1_000_000);
    // flatten: arrays in the data are counted; a computed array cannot be.
    const arrays = { values: rowsOf(100, (i) => ({ i, xs: rowsOf(2000, (j) => j) })) };
    expectCap(spec({ data: arrays, transform: [{ flatten: ['xs'] }], mark: 'point' }), [...S, 'transform', 0, 'flatten'], MAX_CHART_ROWS, 200_000);
    expectUnbounded(
      spec({ data, transform: [{ calculate: 'split(datum.s, ",")', as: 'parts' }, { flatten: ['parts'] }], mark: 'point' }),
      [...S, 'transform', 1, 'flatten'],
    );
    // Grouped density over a field of the data counts its groups exactly (3 groups × 201 samples).
    const grouped = { values: rowsOf(3000, (i) => ({ x: i, g: `g${i % 3}` })) };
    expect(() => preflight(spec({ data: grouped, transform: [{ density: 'x', groupby: ['g'] }], mark: 'line', encoding: { x: { field: 'value', type: 'quantitative' } } }))).not.toThrow();
  });

  it('caps the work of loess, density, regression and frame-scanning window operations', () => {
    const big = { values: rowsOf(50_000) };
    const t = (transform: object[]) => spec({ data: big, transform, ...point });
    expectCap(t([{ loess: 'y', on: 'x' }]), [...S, 'transform', 0, 'loess'], MAX_CHART_TRANSFORM_WORK, 2_250_000_000);
    expectCap(t([{ loess: 'y', on: 'x', bandwidth: 1e6 }]), [...S, 'transform', 0, 'bandwidth'], 1, 1e6);
    expectCap(t([{ regression: 'y', on: 'x', method: 'poly', order: 1e4 }]), [...S, 'transform', 0, 'regression'], MAX_CHART_TRANSFORM_WORK);
    expectCap(t([{ window: [{ op: 'median', field: 'y', as: 'm' }], frame: [null, null] }]), [...S, 'transform', 0, 'window'], MAX_CHART_TRANSFORM_WORK, 50_000 * 50_000);
    expectCap(t([{ density: 'x', steps: 5000 }]), [...S, 'transform', 0, 'density'], MAX_CHART_TRANSFORM_WORK, 50_000 * 5001);
    // Incremental window operations, rolling frames and small loess are fine.
    expect(() => preflight(t([{ window: [{ op: 'sum', field: 'y', as: 's' }, { op: 'median', field: 'y', as: 'm' }], frame: [-6, 0] }]))).not.toThrow();
    expect(() => preflight(spec({ data: { values: rowsOf(1000) }, transform: [{ loess: 'y', on: 'x' }], ...point }))).not.toThrow();
  });
});

describe('chart caps: views, facets and size', () => {
  const repeatOf = (repeat: unknown) => spec({
    data: { values: [] },
    repeat,
    columns: 10,
    spec: { mark: 'bar', encoding: { x: { field: { repeat: 'repeat' }, type: 'quantitative' }, y: { aggregate: 'count' } } },
  });

  it('refuses a repeat over 2,000 fields before compiling it (it froze the process for 15–22 s)', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `field_${i}`);
    expectCap(repeatOf(names), [...S, 'repeat'], MAX_CHART_VIEWS, 2000);
    expectCap(repeatOf(Array.from({ length: 20_000 }, (_, i) => `f${i}`)), [...S, 'repeat'], MAX_CHART_VIEWS, 20_000);
    expectCap(
      spec({ data: { values: [] }, repeat: { row: names.slice(0, 20), column: names.slice(0, 20) }, spec: { mark: 'point' } }),
      [...S, 'repeat'], MAX_CHART_VIEWS, 400,
    );
  });

  it('accepts and compiles a repeat of exactly MAX_CHART_VIEWS views', () => {
    expect(() => preflight(repeatOf(Array.from({ length: MAX_CHART_VIEWS }, (_, i) => `f${i}`)))).not.toThrow();
  }, 60_000);

  it('counts views through concat and nested layers', () => {
    const unit = { mark: 'point' };
    expectCap(spec({ vconcat: Array.from({ length: 101 }, () => unit) }), [...S, 'vconcat'], MAX_CHART_VIEWS, 101);
    expectCap(
      spec({ data: { values: [] }, repeat: Array.from({ length: 10 }, (_, i) => `f${i}`), spec: { layer: Array.from({ length: 11 }, () => unit) } }),
      [...S, 'repeat'], MAX_CHART_VIEWS, 110,
    );
  });

  it('counts facet cells from the data: 5,000 distinct values are refused, a small facet accepted', () => {
    const facet = (n: number) => spec({ data: { values: rowsOf(n, (i) => ({ g: i, x: i, y: 1 })) }, facet: { field: 'g', type: 'nominal' }, columns: 50, spec: { width: 10, height: 10, ...point } });
    expectCap(facet(5000), [...S, 'facet'], MAX_CHART_FACET_CELLS, 5000);
    expect(() => preflight(facet(MAX_CHART_FACET_CELLS))).not.toThrow();
    expectCap(
      spec({ data: { values: rowsOf(10) }, mark: 'point', encoding: { facet: { field: 'x', bin: { maxbins: 1e9 } } } }),
      [...S, 'encoding', 'facet', 'bin', 'maxbins'], MAX_CHART_BINS, 1e9,
    );
    expectCap(
      spec({ data: { values: rowsOf(2000, (i) => ({ g: i, x: i, y: 1 })) }, mark: 'point', encoding: { row: { field: 'g' }, x: { field: 'x', type: 'quantitative' } } }),
      [...S, 'encoding', 'row'], MAX_CHART_FACET_CELLS, 2000,
    );
    // 3,000 rows but 3 distinct values: 3 cells.
    const small = spec({ data: { values: rowsOf(3000, (i) => ({ g: `g${i % 3}`, x: i, y: i % 5 })) }, facet: { row: { field: 'g' } }, spec: point });
    expect(() => preflight(small)).not.toThrow();
  });

  it('bounds facets on computed fields by the rows (the data cannot say how many there are)', () => {
    const computed = (n: number) => spec({
      data: { values: rowsOf(n) },
      transform: [{ calculate: 'datum.x % 3', as: 'g' }],
      facet: { field: 'g' },
      spec: point,
    });
    expectCap(computed(5000), [...S, 'facet'], MAX_CHART_FACET_CELLS, 5000);
    expect(() => preflight(computed(500))).not.toThrow();
  });

  it('refuses a 1e7 × 1e7 chart, and step-based sizes over the side cap', () => {
    expectCap(spec({ width: 1e7, height: 1e7, ...point }), [...S, 'width'], MAX_CHART_SIDE, 1e7);
    const bars = spec({ data: { values: rowsOf(1000, (i) => ({ c: `c${i}`, v: i })) }, width: { step: 20 }, mark: 'bar', encoding: { x: { field: 'c', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } });
    expectCap(bars, [...S, 'width'], MAX_CHART_SIDE, 20_000);
    // Without a width, the default discrete step (20) applies too.
    const { width: _omit, ...byDefault } = bars.spec;
    expectCap({ ...bars, spec: byDefault }, [...S, 'encoding', 'x'], MAX_CHART_SIDE, 20_000);
    expectCap(spec({ hconcat: [{ width: 9000, ...point }, { width: 9000, ...point }] }), [...S, 'hconcat'], MAX_CHART_SIDE, 18_000);
  });

  it('holds PNG to the raster caps at its scale, and SVG only to the side cap', () => {
    const sized = (w: number, h: number, format: 'png' | 'svg', scale = 2) => ({ spec: { width: w, height: h, ...point }, format, scale });
    expectCap(sized(5000, 100, 'png', 4), S, MAX_RASTER_SIDE, 20_000);
    expectCap(sized(4000, 4000, 'png', 2), S, MAX_RASTER_PIXELS, 64_000_000);
    expect(() => preflight(sized(4000, 4000, 'svg'))).not.toThrow();
    expect(() => preflight(sized(3000, 3000, 'png', 2))).not.toThrow();
  });
});

describe('chart caps: other multipliers', () => {
  const data = { values: rowsOf(100, (i) => ({ x: i * 10, y: i })) };

  it('caps bins: maxbins, a step over the data span, and a base below 1 (an endless loop in Vega)', () => {
    const binned = (bin: unknown, values = data) => spec({ data: values, mark: 'bar', encoding: { x: { field: 'x', bin }, y: { aggregate: 'count' } } });
    expectCap(binned({ maxbins: 1e9 }), [...S, 'encoding', 'x', 'bin', 'maxbins'], MAX_CHART_BINS, 1e9);
    expectCap(binned({ step: 1e-6 }), [...S, 'encoding', 'x', 'bin', 'step'], MAX_CHART_BINS);
    expectCap(binned({ base: 0.5, maxbins: 1 }), [...S, 'encoding', 'x', 'bin', 'base'], 1, 0.5);
    expectCap(spec({ data, transform: [{ bin: { maxbins: 1e6 }, field: 'x', as: 'b' }], ...point }), [...S, 'transform', 0, 'bin', 'maxbins'], MAX_CHART_BINS, 1e6);
    expect(() => preflight(binned({ step: 10 }))).not.toThrow(); // 990 / 10: 100 bins
    expect(() => preflight(binned(true))).not.toThrow();
    // A step over a computed field needs an extent.
    const computed = (bin: unknown) => spec({ data, transform: [{ calculate: 'datum.x * 1e9', as: 'z' }], mark: 'bar', encoding: { x: { field: 'z', bin }, y: { aggregate: 'count' } } });
    expectUnbounded(computed({ step: 1 }), [...S, 'encoding', 'x', 'bin', 'step']);
    expect(() => preflight(computed({ step: 1e10, extent: [0, 1e11] }))).not.toThrow();
  });

  it('caps tick counts, colour scheme counts and number-format widths', () => {
    const enc = (x: object) => spec({ data, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', ...x } } });
    expectCap(enc({ axis: { tickCount: 1e9 } }), [...S, 'encoding', 'x', 'axis', 'tickCount'], MAX_CHART_TICKS, 1e9);
    expectUnbounded(
      spec({ data, mark: 'point', encoding: { x: { field: 'x', type: 'temporal', axis: { tickCount: { interval: 'millisecond', step: 1 } } } } }),
      [...S, 'encoding', 'x', 'axis', 'tickCount'],
    );
    expectCap(
      spec({ data, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, color: { field: 'y', type: 'quantitative', scale: { scheme: { name: 'blues', count: 1e8 } } } } }),
      [...S, 'encoding', 'color', 'scale', 'scheme', 'count'], MAX_CHART_BINS, 1e8,
    );
    expectCap(enc({ axis: { format: '0>100000000' } }), [...S, 'encoding', 'x', 'axis', 'format'], MAX_CHART_PAD_WIDTH, 1e8);
    expectCap(spec({ data, config: { numberFormat: '020000d' }, ...point }), [...S, 'config', 'numberFormat'], MAX_CHART_PAD_WIDTH, 20_000);
    expect(() => preflight(enc({ axis: { tickCount: 10, format: '08.2f' } }))).not.toThrow();
  });

  it('caps costly expression calls and refuses those it cannot bound', () => {
    const calc = (expr: string) => spec({ data, transform: [{ calculate: expr, as: 'c' }], ...point });
    expectCap(calc('length(sequence(0, 1e9))'), [...S, 'transform', 0, 'calculate'], MAX_CHART_EXPRESSION_SEQUENCE, 1e9);
    expectCap(calc('pad(datum.x, 1e9)'), [...S, 'transform', 0, 'calculate'], MAX_CHART_PAD_WIDTH, 1e9);
    expectCap(calc('format(datum.x, "0>50000000")'), [...S, 'transform', 0, 'calculate'], MAX_CHART_PAD_WIDTH, 5e7);
    expectUnbounded(calc('sequence(0, datum.x * 1e9)'), [...S, 'transform', 0, 'calculate']);
    expectUnbounded(calc("length(data('source_0'))"), [...S, 'transform', 0, 'calculate']);
    expectUnbounded(calc('timeSequence("millisecond", datetime(1970, 0, 1), datetime(2100, 0, 1))'), [...S, 'transform', 0, 'calculate']);
    expectUnbounded(spec({ data, params: [{ name: 'n', value: 5 }], mark: { type: 'text', text: { expr: 'pad("", n)' } } }), [...S, 'mark', 'text', 'expr']);
    expect(() => preflight(calc('length(sequence(0, 10)) + format(datum.x, ".2f") + pad(datum.y, 4)'))).not.toThrow();
    // A title that merely reads like a call is not an expression.
    expect(() => preflight(spec({ data, title: 'Sales data (2024)', ...point }))).not.toThrow();
    expect(() => preflight(spec({ data, title: { text: 'data(2024)', subtitle: 'pad(1e9)' }, ...point }))).not.toThrow();
  });

  it('caps projection precision and scale (both resample every line up to 65,536 times)', () => {
    const geo = (projection: object) => spec({ data: { graticule: true }, mark: 'geoshape', projection });
    expectCap(geo({ type: 'orthographic', precision: 1e-9 }), [...S, 'projection', 'precision'], MIN_CHART_PROJECTION_PRECISION, 1e-9);
    expectCap(geo({ type: 'mercator', scale: 1e12 }), [...S, 'projection', 'scale'], MAX_CHART_PROJECTION_SCALE, 1e12);
    expectUnbounded(geo({ type: 'mercator', scale: { expr: '1e12' } }), [...S, 'projection', 'scale']);
  });

  it('refuses a spec 100,000 levels deep without overflowing the stack', () => {
    const deep = JSON.parse(`${'{"layer":[{"a":'.repeat(1)}${'{"b":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}`);
    const err = expectCap(spec({ ...deep, mark: 'point' }), [...S, 'layer', 0, 'a', ...Array<string>(7).fill('b')], MAX_CHART_SPEC_DEPTH);
    expect((err.options.details as { actual: number }[])[0]!.actual).toBe(100_003);
  });
});

describe('chart caps: typical charts are accepted', () => {
  const cities = [
    { city: 'Lisbon', visits: 12, month: '2024-01-01', kind: 'a' },
    { city: 'Oslo', visits: 30, month: '2024-02-01', kind: 'b' },
    { city: 'Quito', visits: 7, month: '2024-03-01', kind: 'a' },
    { city: 'Hanoi', visits: 21, month: '2024-04-01', kind: 'b' },
  ];
  const typical: Record<string, Record<string, unknown>> = {
    bar: { data: { values: cities }, mark: 'bar', encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'visits', type: 'quantitative' } } },
    line: { data: { values: cities }, mark: 'line', encoding: { x: { field: 'month', type: 'temporal', timeUnit: 'yearmonth' }, y: { field: 'visits', type: 'quantitative' } } },
    layered: {
      data: { values: cities },
      encoding: { x: { field: 'city', type: 'nominal' } },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'visits', type: 'quantitative' } } },
        { mark: 'rule', encoding: { y: { aggregate: 'mean', field: 'visits' }, x: {} } },
        { mark: { type: 'text', dy: -5 }, encoding: { y: { field: 'visits', type: 'quantitative' }, text: { field: 'visits', format: ',.0f' } } },
      ],
    },
    faceted: { data: { values: cities }, facet: { column: { field: 'kind' } }, spec: { width: 120, mark: 'bar', encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'visits', type: 'quantitative' } } } },
    geoshape: { width: 300, height: 300, data: { graticule: { step: [15, 15] } }, mark: { type: 'geoshape', stroke: '#999', fill: null }, projection: { type: 'orthographic', rotate: [-10, -30] } },
    histogram: { data: { values: rowsOf(500) }, mark: 'bar', encoding: { x: { field: 'x', bin: { maxbins: 30 } }, y: { aggregate: 'count' } } },
    statistics: {
      data: { values: rowsOf(500, (i) => ({ x: i, y: (i * 37) % 101, g: `g${i % 4}`, a: i, b: 2 * i })) },
      transform: [{ fold: ['a', 'b'] }, { window: [{ op: 'rank', as: 'r' }], groupby: ['key'] }, { impute: 'y', key: 'x', keyvals: { start: 0, stop: 10 } }],
      layer: [
        { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
        { transform: [{ loess: 'y', on: 'x', groupby: ['g'] }], mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
        { transform: [{ regression: 'y', on: 'x', method: 'poly', order: 3 }], mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    },
  };

  it.each(Object.keys(typical))('%s', (name) => {
    expect(findChartCapViolations(typical[name], { path: S, format: 'png', scale: 2 })).toEqual({ violations: [], unbounded: [] });
    expect(() => preflight({ spec: typical[name], format: 'png' })).not.toThrow();
  });

  it('the renderer example', () => {
    expect(() => chartRenderer.preflight!(chartRenderer.inputSchema.parse(chartRenderer.example))).not.toThrow();
  });

  it('renders the faceted and geoshape charts', async () => {
    for (const name of ['faceted', 'geoshape']) {
      const run = await newRun();
      await chartRenderer.render(parse({ spec: typical[name], format: 'svg' }), run.ctx);
      await run.settled();
      expect(run.outputFor('primary')).toBeDefined();
    }
  });
});

describe('chart caps at render time', () => {
  async function dataAsset(name: string, contents: string, contentType: string): Promise<FileAsset> {
    const { id, path } = fixtureFile(`-${name}`);
    await writeFile(path, contents);
    return { id, path, contentType };
  }

  it('counts a data asset\'s rows while reading and stops as soon as they pass the cap', async () => {
    const rows = 4 * MAX_CHART_ROWS;
    const asset = await dataAsset('big.csv', `x,y\n${rowsOf(rows, (i) => `${i},${i % 7}`).join('\n')}\n`, 'text/csv');
    const run = await newRun({ assets: [asset] });
    const read = run.ctx.readAsset.bind(run.ctx);
    let delivered = 0;
    let size = 0;
    run.ctx.readAsset = async (id) => {
      const a = await read(id);
      size = a.byteSize;
      const counted = new PassThrough();
      counted.on('data', (chunk: Buffer) => (delivered += chunk.length));
      a.stream.pipe(counted);
      return { ...a, stream: counted };
    };
    const input = parse({ spec: { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } }, dataAssetId: asset.id, format: 'svg' });
    const err = (await chartRenderer.render(input, run.ctx).catch((e: unknown) => e)) as RenderError;
    expect(err).toMatchObject({ code: 'validation_failed', retryable: false });
    expect(err.options.details).toEqual([expect.objectContaining({ path: ['input', 'dataAssetId'], limit: MAX_CHART_ROWS, actual: MAX_CHART_ROWS + 1 })]);
    expect(delivered).toBeLessThan(size / 2);
    expect(run.outputs).toHaveLength(0);
  });

  it('reads exactly MAX_CHART_ROWS rows of CSV or JSON, and refuses one more', async () => {
    for (const [name, type, make] of [
      ['rows.csv', 'text/csv', (n: number) => `x\n${rowsOf(n, (i) => i).join('\n')}`],
      ['rows.json', 'application/json', (n: number) => JSON.stringify(rowsOf(n, (i) => ({ x: i, s: 'a,b]"[' })))],
    ] as const) {
      const fits = await dataAsset(name, make(MAX_CHART_ROWS), type);
      const over = await dataAsset(name, make(MAX_CHART_ROWS + 1), type);
      const run = await newRun({ assets: [fits, over] });
      expect(await readChartData(run.ctx, parse({ spec: {}, dataAssetId: fits.id }))).toHaveLength(MAX_CHART_ROWS);
      await expect(readChartData(run.ctx, parse({ spec: {}, dataAssetId: over.id }))).rejects.toMatchObject({
        code: 'validation_failed',
        options: { details: [expect.objectContaining({ limit: MAX_CHART_ROWS, actual: MAX_CHART_ROWS + 1 })] },
      });
    }
  });

  it('counts CSV records as the parser does: quoted line breaks and doubled quotes are data', () => {
    const counter = createRowCounter('csv');
    const text = 'a,b\r\n"line\none",2\r\n"say ""hi""\n",3\n5" screen,4\nlast,5';
    // Pushed one byte at a time, so every state crosses a chunk boundary.
    for (const byte of Buffer.from(text)) counter.push(Uint8Array.of(byte));
    expect(counter.rows()).toBe(4);
    const json = createRowCounter('json');
    json.push(Buffer.from('[{"a":"],[,"}, [1,2,3], "x\\",y", {}]'));
    expect(json.rows()).toBe(4);
  });

  it('checks facets and bins against a data asset\'s rows once they are read', async () => {
    const asset = await dataAsset('cells.csv', `g,x\n${rowsOf(5000, (i) => `${i},${i}`).join('\n')}\n`, 'text/csv');
    const input = parse({ spec: { facet: { field: 'g' }, columns: 50, spec: { width: 10, height: 10, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } } }, dataAssetId: asset.id, format: 'svg' });
    expect(() => chartRenderer.preflight!(input)).not.toThrow(); // the rows are not known at submit
    const run = await newRun({ assets: [asset] });
    await expect(chartRenderer.render(input, run.ctx)).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [expect.objectContaining({ path: ['input', 'spec', 'facet'], limit: MAX_CHART_FACET_CELLS, actual: 5000 })] },
    });
  });

  it('refuses a laid-out SVG over the side cap, and a PNG over the raster side, as validation_failed', async () => {
    // The plot areas fit; the axes and title laid out around them do not.
    const wide = { width: MAX_CHART_SIDE - 10, height: 50, title: 'Wide', data: { values: rowsOf(10) }, ...point };
    expect(() => preflight({ spec: wide, format: 'svg' })).not.toThrow();
    let run = await newRun();
    await expect(chartRenderer.render(parse({ spec: wide, format: 'svg' }), run.ctx)).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [expect.objectContaining({ path: S, limit: MAX_CHART_SIDE })] },
    });
    const png = { ...wide, width: MAX_RASTER_SIDE / 2 - 10 };
    expect(() => preflight({ spec: png, format: 'png', scale: 2 })).not.toThrow();
    run = await newRun();
    await expect(chartRenderer.render(parse({ spec: png, format: 'png', scale: 2 }), run.ctx)).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [expect.objectContaining({ path: S, limit: MAX_RASTER_SIDE })] },
    });
    expect(run.outputs).toHaveLength(0);
  });
});

describe('chart caps in video chart scenes', () => {
  it('refuses a scene\'s chart bomb through the chart preflight, at the scene\'s path', async () => {
    const input = videoRenderer.inputSchema.parse({
      scenes: [
        { visual: { type: 'svg', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>' } },
        { visual: { type: 'chart', chart: { spec: { data: { sequence: { start: 0, stop: 1e9 } }, mark: 'point' } } } },
      ],
    });
    const err = (await Promise.resolve(videoRenderer.preflight!(input)).catch((e: unknown) => e)) as RenderError;
    expect(err).toMatchObject({ code: 'validation_failed' });
    expect(err.options.details).toEqual([
      expect.objectContaining({ path: ['input', 'scenes', 1, 'visual', 'chart', 'spec', 'data', 'sequence'], limit: MAX_CHART_ROWS, actual: 1e9 }),
    ]);
  });
});
