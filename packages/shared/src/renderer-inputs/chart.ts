import { z } from 'zod';
import { hexColorSchema } from './image.js';

export const CHART_FORMATS = ['svg', 'png'] as const;
export const CHART_DATA_FORMATS = ['csv', 'tsv', 'json'] as const;

/**
 * `chart`: a Vega-Lite spec rendered without a browser. Data is inline (`spec.data.values`) or comes
 * from a CSV/TSV/JSON asset of the same company (`dataAssetId`), whose rows become the spec's
 * top-level data. Nothing is fetched: `url`s anywhere in the spec are refused.
 */
export const chartInputSchema = z
  .object({
    /** A Vega-Lite (v6) specification, as JSON. */
    spec: z.record(z.string(), z.unknown()),
    dataAssetId: z.string().uuid().optional(),
    /** How to read the data asset; by default taken from its content type. */
    dataFormat: z.enum(CHART_DATA_FORMATS).optional(),
    format: z.enum(CHART_FORMATS).default('png'),
    /** Pixels per SVG unit for PNG output (2 = sharp on high-density screens). */
    scale: z.number().min(0.5).max(4).default(2),
    /** Overrides the spec's background colour. */
    background: hexColorSchema.optional(),
  })
  .strict();
export type ChartInput = z.infer<typeof chartInputSchema>;
