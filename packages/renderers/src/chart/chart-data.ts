import { inferTypes, read } from 'vega';
import type { ChartInput } from '@kiln/shared';
import { RenderError, type RenderContext } from '../contract.js';
import { readAssetBytes } from '../read-asset-bytes.js';

const MAX_DATA_BYTES = 50 * 1024 * 1024;

/**
 * Reads a chart's data asset into records. CSV/TSV columns that are wholly numeric or boolean are
 * converted (Vega-Lite would otherwise treat "3" as a string for quantitative fields in inline
 * data); dates stay strings so Vega-Lite parses them with the spec's own time settings.
 */
export async function readChartData(ctx: RenderContext, input: ChartInput): Promise<object[]> {
  const id = input.dataAssetId!;
  const { asset, bytes } = await readAssetBytes(ctx, id, { maxBytes: MAX_DATA_BYTES, purpose: 'chart data' });
  const format = input.dataFormat ?? formatOf(asset.contentType);
  if (!format) {
    throw new RenderError(
      'render_failed',
      `Data asset ${id} is ${asset.contentType}; set dataFormat to csv, tsv or json to say how to read it.`,
    );
  }
  const text = bytes.toString('utf8');
  try {
    if (format === 'json') {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new Error('JSON chart data must be an array of records');
      return parsed as object[];
    }
    const raw = read(text, { type: format }) as Record<string, unknown>[];
    const fields = raw.length > 0 ? Object.keys(raw[0]!) : [];
    const types = inferTypes(raw, fields);
    const parse: Record<string, string> = {};
    for (const [field, type] of Object.entries(types)) {
      if (type === 'number' || type === 'integer' || type === 'boolean') parse[field] = type;
    }
    return read(text, { type: format, parse } as never) as object[];
  } catch (err) {
    throw new RenderError('render_failed', `Data asset ${id} could not be read as ${format}: ${(err as Error).message}`);
  }
}

function formatOf(contentType: string): 'csv' | 'tsv' | 'json' | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/csv' || type === 'application/csv') return 'csv';
  if (type === 'text/tab-separated-values') return 'tsv';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  return undefined;
}
