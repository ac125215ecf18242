import {
  MAX_CHART_BINS,
  MAX_CHART_PAD_WIDTH,
  MAX_CHART_PROJECTION_SCALE,
  MAX_CHART_SPEC_DEPTH,
  MAX_CHART_TICKS,
  MIN_CHART_PROJECTION_PRECISION,
} from '@kiln/shared';
import { formatCount, isFiniteNumber, isRecord, rangeCount, type CapReporter, type SpecPath } from './chart-cap-report.js';
import { checkExpressionString, mentionsCostlyCall } from './chart-expression-caps.js';
import { numberFormatWidth } from './chart-number-format.js';

/** Keys whose string value is a d3 number format (time formats have no width to abuse). */
const NUMBER_FORMAT_KEYS = new Set(['format', 'numberFormat', 'normalizedNumberFormat']);
/**
 * Keys whose string value is text or a name, never an expression: a title such as "data (2024)"
 * is not checked as a call. (Where these accept an expression, it sits under an `expr` key.)
 */
const TEXT_KEYS = new Set(['title', 'subtitle', 'description', 'text', 'name', 'field', 'as', 'type', '$schema']);

interface Entry {
  value: unknown;
  key: string | number | undefined;
  parent: Entry | undefined;
  depth: number;
}

/**
 * One pass over every object, array and string of the spec except its data values, with an
 * explicit stack: a spec may be thousands of levels deep, and this pass is what proves it isn't
 * before anything recursive (the view walk, the URL check, the compiler) looks at it. Checks made
 * here don't depend on where in the view tree a key sits: nesting depth, number-format widths,
 * costly expression calls, tick counts, scale bins and scheme counts, projection precision/scale.
 *
 * Returns false when the spec is deeper than `MAX_CHART_SPEC_DEPTH` (nothing else may walk it).
 */
export function scanChartSpec(spec: Record<string, unknown>, at: SpecPath, report: CapReporter): boolean {
  const stack: Entry[] = [{ value: spec, key: undefined, parent: undefined, depth: 1 }];
  let deepest: Entry | undefined;
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { value, depth } = entry;
    if (typeof value === 'string') {
      const key = entry.key;
      // Paths are built only for what is reported: building one per string would cost depth × strings.
      if (typeof key === 'string' && NUMBER_FORMAT_KEYS.has(key)) {
        const width = numberFormatWidth(value);
        if (width > MAX_CHART_PAD_WIDTH) {
          report.over(pathOf(entry, at), MAX_CHART_PAD_WIDTH, width, () => `the number format ${JSON.stringify(value.slice(0, 40))} pads every label to ${formatCount(width)} characters`);
        }
      }
      if (!(typeof key === 'string' && TEXT_KEYS.has(key)) && mentionsCostlyCall(value)) checkExpressionString(value, pathOf(entry, at), report);
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth > MAX_CHART_SPEC_DEPTH && (!deepest || depth > deepest.depth)) deepest = entry;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: entry, depth: depth + 1 });
      continue;
    }
    const record = value as Record<string, unknown>;
    checkKeys(entry, record, at, report);
    for (const key in record) {
      // Data values are rows, not spec: they are counted by the view walk, never interpreted.
      if ((key === 'values' && entry.key === 'data') || (key === 'datasets' && depth === 1)) continue;
      stack.push({ value: record[key], key, parent: entry, depth: depth + 1 });
    }
  }
  if (deepest) {
    // The path to the deepest point would itself be as long as the spec is deep; its first levels say where.
    const path = pathOf(deepest, at).slice(0, at.length + 10);
    report.over(path, MAX_CHART_SPEC_DEPTH, deepest.depth, () => `the spec nests ${formatCount(deepest.depth)} levels deep`);
    return false;
  }
  return true;
}

/** Properties that multiply work wherever they appear (marks, axes, legends, scales, config). */
function checkKeys(entry: Entry, record: Record<string, unknown>, at: SpecPath, report: CapReporter): void {
  // Most objects have none of these keys; paths are built only for those that do.
  if ('tickCount' in record) checkTickCount(record.tickCount, [...pathOf(entry, at), 'tickCount'], report);
  for (const key of COUNT_KEYS) {
    if (key in record) countAtMost(record[key], [...pathOf(entry, at), key], MAX_CHART_BINS, `${key} makes a range of that many values`, report);
  }
  if ('count' in record && (entry.key === 'scheme' || 'scheme' in record)) {
    countAtMost(record.count, [...pathOf(entry, at), 'count'], MAX_CHART_BINS, 'a colour scheme of that many colours', report);
  }
  if (entry.key === 'scale' && isRecord(record.bins)) checkScaleBins(record.bins, [...pathOf(entry, at), 'bins'], report);
  if (entry.key === 'projection') checkProjection(record, pathOf(entry, at), report);
}

const COUNT_KEYS = ['quantileCount', 'quantizeCount'];

function checkTickCount(value: unknown, at: SpecPath, report: CapReporter): void {
  if (isFiniteNumber(value)) {
    report.over(at, MAX_CHART_TICKS, value, () => `tickCount asks for ${formatCount(value)} ticks`);
  } else if (isRecord(value) && 'interval' in value) {
    report.unbounded(at, 'tickCount with a time interval makes one tick per interval over the data\'s whole time span, which Kiln can\'t bound; give a number of ticks or explicit values.');
  } else if (value !== undefined && value !== null) {
    report.unbounded(at, 'tickCount must be a number (a signal or expression can ask for any number of ticks).');
  }
}

function countAtMost(value: unknown, at: SpecPath, limit: number, what: string, report: CapReporter): void {
  if (isFiniteNumber(value)) report.over(at, limit, value, () => `${what} (${formatCount(value)})`);
  else if (value !== undefined && value !== null) report.unbounded(at, `${String(at.at(-1))} must be a number (${what}).`);
}

/** Scale `bins: {step, start?, stop?}` becomes an array of every boundary from start to stop. */
function checkScaleBins(bins: Record<string, unknown>, at: SpecPath, report: CapReporter): void {
  const { step, start, stop } = bins;
  if (step === undefined) return;
  if (isFiniteNumber(step) && isFiniteNumber(start) && isFiniteNumber(stop)) {
    const count = rangeCount(start, stop + step / 2, step);
    report.over(at, MAX_CHART_BINS, count, () => `the scale's bins run from ${start} to ${stop} in steps of ${step}: ${formatCount(count)} bins`);
  } else {
    report.unbounded(at, 'scale bins with a step need numeric start and stop, so the number of bins can be known.');
  }
}

/**
 * Projection precision and scale decide how finely every line is resampled (up to 65,536 pieces
 * per segment): a precision of 1e-9 on a default graticule takes ~25 s and a 98 MB SVG.
 */
function checkProjection(projection: Record<string, unknown>, at: SpecPath, report: CapReporter): void {
  const { precision, scale } = projection;
  if (isFiniteNumber(precision)) {
    report.under([...at, 'precision'], MIN_CHART_PROJECTION_PRECISION, precision, () => `projection precision ${precision} resamples every line into up to 65,536 pieces`);
  } else if (precision !== undefined) {
    report.unbounded([...at, 'precision'], 'projection precision must be a number.');
  }
  if (isFiniteNumber(scale)) {
    report.over([...at, 'scale'], MAX_CHART_PROJECTION_SCALE, scale, () => `projection scale ${formatCount(scale)} resamples every line into up to 65,536 pieces`);
  } else if (scale !== undefined) {
    report.unbounded([...at, 'scale'], 'projection scale must be a number.');
  }
}

function pathOf(entry: Entry, at: SpecPath): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let e: Entry | undefined = entry; e?.key !== undefined; e = e.parent) keys.push(e.key);
  return [...at, ...keys.reverse()];
}
