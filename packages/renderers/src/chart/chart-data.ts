import { inferTypes, read } from 'vega';
import { MAX_CHART_DATA_BYTES, MAX_CHART_ROWS, type ChartInput } from '@kiln/shared';
import { capsExceeded, RenderError, type RenderContext } from '../contract.js';
import { readAssetBytes } from '../read-asset-bytes.js';
import { formatCount } from './chart-cap-report.js';
import { createRowCounter } from './chart-data-rows.js';

/**
 * Reads a chart's data asset into records. CSV/TSV columns that are wholly numeric or boolean are
 * converted (Vega-Lite would otherwise treat "3" as a string for quantitative fields in inline
 * data); dates stay strings so Vega-Lite parses them with the spec's own time settings.
 *
 * Rows are counted as the bytes arrive: past `MAX_CHART_ROWS` the read stops and the job fails
 * with `validation_failed` (never retried), without the rest of the file being read or parsed.
 * `path` is where the asset id sits in the request, for the error's details.
 */
export async function readChartData(
  ctx: RenderContext,
  input: ChartInput,
  path: (string | number)[] = ['input', 'dataAssetId'],
): Promise<object[]> {
  const id = input.dataAssetId!;
  let counter: ReturnType<typeof createRowCounter> | undefined;
  const tooMany = (rows: number) =>
    capsExceeded([{ path, message: `data asset ${id} has more than ${formatCount(MAX_CHART_ROWS)} rows`, limit: MAX_CHART_ROWS, actual: rows }]);
  const { asset, bytes } = await readAssetBytes(ctx, id, {
    maxBytes: MAX_CHART_DATA_BYTES,
    purpose: 'chart data',
    onChunk(chunk, asset) {
      counter ??= createRowCounter(formatFor(input, asset.contentType, id), MAX_CHART_ROWS);
      const rows = counter.push(chunk);
      if (rows > MAX_CHART_ROWS) throw tooMany(rows);
    },
  });
  const format = formatFor(input, asset.contentType, id);
  const text = bytes.toString('utf8');
  let records: object[];
  try {
    if (format === 'json') {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new Error('JSON chart data must be an array of records');
      records = parsed as object[];
    } else {
      const raw = read(text, { type: format }) as Record<string, unknown>[];
      const fields = raw.length > 0 ? Object.keys(raw[0]!) : [];
      const types = inferTypes(raw, fields);
      const parse: Record<string, string> = {};
      for (const [field, type] of Object.entries(types)) {
        if (type === 'number' || type === 'integer' || type === 'boolean') parse[field] = type;
      }
      records = read(text, { type: format, parse } as never) as object[];
    }
  } catch (err) {
    throw new RenderError('render_failed', `Data asset ${id} could not be read as ${format}: ${(err as Error).message}`);
  }
  // The streaming count follows the parsers; this is the parsers' own word.
  if (records.length > MAX_CHART_ROWS) throw tooMany(records.length);
  return records;
}

function formatFor(input: ChartInput, contentType: string, id: string): 'csv' | 'tsv' | 'json' {
  const format = input.dataFormat ?? formatOf(contentType);
  if (!format) {
    throw new RenderError(
      'render_failed',
      `Data asset ${id} is ${contentType}; set dataFormat to csv, tsv or json to say how to read it.`,
    );
  }
  return format;
}

function formatOf(contentType: string): 'csv' | 'tsv' | 'json' | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/csv' || type === 'application/csv') return 'csv';
  if (type === 'text/tab-separated-values') return 'tsv';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  return undefined;
}
