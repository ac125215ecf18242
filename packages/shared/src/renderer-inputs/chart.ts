import { z } from 'zod';
import { hexColorSchema } from './image.js';
import { about } from './about.js';

export const CHART_FORMATS = ['svg', 'png'] as const;
export const CHART_DATA_FORMATS = ['csv', 'tsv', 'json'] as const;

/*
 * Caps on what one chart may cost. Vega-Lite lets a few bytes of spec ask for unbounded work (a
 * sequence of a billion rows, a repeat over thousands of fields, a graticule every 0.0001°), so
 * every input that multiplies work is bounded here and refused when the job is submitted, before
 * anything is compiled. Measured on the 2-core reference machine: 100,000 points take ~7 s to lay
 * out, write as SVG (28 MB) and rasterize; 1,000 facet cells ~5 s; compiling a 100-view repeat
 * ~0.7 s and a 400-view one ~4 s (compile time grows faster than the view count).
 */

/**
 * Rows the chart's views draw from, summed over its views (a layer of three marks over 30,000
 * rows draws 90,000): inline rows, generated rows (sequence, graticule points) and rows that
 * transforms add (fold, flatten, density, impute, quantile, regression). Also the most rows a
 * data asset may have.
 */
export const MAX_CHART_ROWS = 100_000;
/** Views the spec lays out: unit and layer views, with repeats multiplied out. */
export const MAX_CHART_VIEWS = 100;
/** Facet cells times the views in each cell, over all facets (cells are known from the data). */
export const MAX_CHART_FACET_CELLS = 1_000;
/** Width or height of the chart (and of any one view), in SVG units. */
export const MAX_CHART_SIDE = 16_384;
/** Bins one bin transform or binned channel makes, and the size of a discretizing scale's range. */
export const MAX_CHART_BINS = 10_000;
/** Ticks an axis or legend is asked for (`tickCount`). */
export const MAX_CHART_TICKS = 1_000;
/**
 * Steps of work one statistical transform may take: loess (≈ 3 × bandwidth × rows²), density
 * (rows × samples), regression (rows × order²), window operations that scan their frame
 * (rows × frame). About a second of CPU.
 */
export const MAX_CHART_TRANSFORM_WORK = 100_000_000;
/** Width a number format pads to (`format: "0>20"`) and the length `pad()` pads to. */
export const MAX_CHART_PAD_WIDTH = 1_000;
/** Numbers a `sequence()` call in an expression makes; an expression may run once per row. */
export const MAX_CHART_EXPRESSION_SEQUENCE = 1_000;
/** Nesting of objects and arrays in the spec, data values aside. */
export const MAX_CHART_SPEC_DEPTH = 100;
/** Projection scale; past it every line is subdivided to the resampler's limit (65,536 pieces). */
export const MAX_CHART_PROJECTION_SCALE = 10_000_000;
/** Smallest projection precision (pixels); smaller ones resample each line up to 65,536 times. */
export const MIN_CHART_PROJECTION_PRECISION = 0.1;
/** Largest chart data asset. */
export const MAX_CHART_DATA_BYTES = 50 * 1024 * 1024;

/** The largest `scale` (pixels per SVG unit) of a PNG chart. */
export const MAX_CHART_SCALE = 4;

/**
 * `chart`: a Vega-Lite spec rendered without a browser. Data is inline (`spec.data.values`) or comes
 * from a CSV/TSV/JSON asset of the same company (`dataAssetId`), whose rows become the spec's
 * top-level data. Nothing is fetched: `url`s anywhere in the spec are refused.
 */
export const chartInputSchema = z
  .object({
    spec: about(
      z.record(z.string(), z.unknown()),
      'Vega-Lite spec',
      'A Vega-Lite (v6) specification, as JSON, with data inline (data.values) unless dataAssetId is given. Nothing is fetched: url and href are refused. ' +
        'Refused at submit when over a cap: ' +
        `${MAX_CHART_ROWS} rows drawn in all (inline, generated and added by transforms, counted per view), ` +
        `${MAX_CHART_VIEWS} views, ${MAX_CHART_FACET_CELLS} facet cells × views, ${MAX_CHART_SIDE} units a side, ` +
        `${MAX_CHART_BINS} bins, tickCount ${MAX_CHART_TICKS}, ${MAX_CHART_SPEC_DEPTH} levels of nesting, ` +
        `format/pad width ${MAX_CHART_PAD_WIDTH}, sequence() ${MAX_CHART_EXPRESSION_SEQUENCE} numbers, ` +
        `projection scale ${MAX_CHART_PROJECTION_SCALE} and precision ≥ ${MIN_CHART_PROJECTION_PRECISION}, ` +
        `${MAX_CHART_TRANSFORM_WORK} steps of work per loess/density/regression/window transform. ` +
        'Parameters that multiply work must be numbers (not signals or expressions).',
    ),
    dataAssetId: about(
      z.string().uuid().optional(),
      'Data asset',
      `A CSV, TSV or JSON asset of your company (uploaded or made by a job) whose rows become the spec's data (at most ${MAX_CHART_ROWS} rows); then leave spec.data out.`,
    ),
    dataFormat: about(z.enum(CHART_DATA_FORMATS).optional(), 'Data format', "How to read the data asset: csv, tsv or json. Default: from the asset's content type."),
    format: about(z.enum(CHART_FORMATS).default('png'), 'Format', 'svg (vector) or png.'),
    scale: about(
      z.number().min(0.5).max(MAX_CHART_SCALE).default(2),
      'Scale',
      `Pixels per SVG unit for PNG output (0.5–${MAX_CHART_SCALE}; 2 is sharp on high-density screens).`,
    ),
    background: about(hexColorSchema.optional(), 'Background', "A colour (#rrggbb) that replaces the spec's background."),
  })
  .strict();
export type ChartInput = z.infer<typeof chartInputSchema>;
