import { chartInputSchema, type ChartInput } from '@kiln/shared';
import type { RendererMeta } from '../lazy-renderer.js';

const EXAMPLE: ChartInput = {
  spec: {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Jobs rendered per day',
    width: 480,
    height: 240,
    data: {
      values: [
        { day: 'Mon', jobs: 120 },
        { day: 'Tue', jobs: 180 },
        { day: 'Wed', jobs: 150 },
        { day: 'Thu', jobs: 210 },
        { day: 'Fri', jobs: 260 },
      ],
    },
    mark: { type: 'bar', color: '#2563eb' },
    encoding: {
      x: { field: 'day', type: 'ordinal', sort: null, title: 'Day', axis: { labelAngle: 0 } },
      y: { field: 'jobs', type: 'quantitative', title: 'Jobs' },
    },
  },
  format: 'png',
  scale: 2,
};

/** What the `chart` kind is, without what it takes to render it (loaded only when a render needs it). */
export const chartMeta: RendererMeta<ChartInput> = {
  kind: 'chart',
  description:
    'Chart from a Vega-Lite spec with inline data (spec.data.values) or a CSV/TSV/JSON data asset (dataAssetId), ' +
    'as SVG or PNG (scale = pixels per unit), with a WebP preview.',
  inputSchema: chartInputSchema,
  example: EXAMPLE,
};
