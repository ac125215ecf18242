import { read } from 'vega';
import { MAX_CHART_ROWS } from '@kiln/shared';
import { formatCount, isFiniteNumber, isRecord, rangeCount, type SpecPath } from './chart-cap-report.js';
import { emptyFlow, type Flow, type WalkContext } from './chart-flow.js';

/**
 * The rows a Vega-Lite `data` object yields: inline values (array or text), a named dataset, or a
 * generator (sequence, graticule, sphere). Counting them is the first cap: a sequence to 1e9 is
 * 28 bytes of spec.
 */
export function sourceFlow(data: unknown, at: SpecPath, ctx: WalkContext): Flow {
  if (!isRecord(data)) return emptyFlow();
  if ('values' in data) return valuesFlow(data.values, data.format, [...at, 'values'], ctx);
  if (typeof data.name === 'string') {
    // A dataset is read once however many views name it, and reported once.
    const known = ctx.datasetFlows.get(data.name);
    if (known) return known;
    const dataset = ctx.datasets[data.name];
    const flow = dataset === undefined ? emptyFlow() : valuesFlow(dataset, data.format, [...ctx.datasetsPath, data.name], ctx);
    ctx.datasetFlows.set(data.name, flow);
    return flow;
  }
  if ('sequence' in data) return sequenceFlow(data.sequence, [...at, 'sequence'], ctx);
  if ('graticule' in data) return graticuleFlow(data.graticule, [...at, 'graticule'], ctx);
  if ('sphere' in data) return { ...emptyFlow(), rows: 1 };
  return emptyFlow();
}

/** Rows already known (a data asset read at render time), checked like inline values. */
export function recordsFlow(records: readonly unknown[], at: SpecPath, ctx: WalkContext): Flow {
  const reported = sourceRows(records.length, at, 'the data has', ctx);
  return { ...emptyFlow(), rows: records.length, records, reported };
}

function valuesFlow(values: unknown, format: unknown, at: SpecPath, ctx: WalkContext): Flow {
  if (Array.isArray(values)) return recordsFlow(values, at, ctx);
  if (typeof values === 'string') {
    // Text values (CSV, TSV, JSON, TopoJSON in a string) are parsed as Vega will parse them; the
    // request body cap bounds the text, and parsing is linear in it.
    let records: unknown[] = [];
    try {
      const parsed = read(values, (isRecord(format) ? { ...format, parse: undefined } : { type: 'json' }) as never) as unknown;
      records = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      // Unreadable text is the compiler's or the renderer's to report.
    }
    return recordsFlow(records, at, ctx);
  }
  return isRecord(values) ? recordsFlow([values], at, ctx) : emptyFlow();
}

function sequenceFlow(sequence: unknown, at: SpecPath, ctx: WalkContext): Flow {
  const { start, stop, step } = isRecord(sequence) ? sequence : ({} as Record<string, unknown>);
  if (!isFiniteNumber(start) || !isFiniteNumber(stop) || (step !== undefined && !isFiniteNumber(step))) {
    ctx.report.unbounded(at, 'sequence start, stop and step must be numbers, so the number of rows can be known.');
    return { ...emptyFlow(), reported: true };
  }
  // Vega treats a step of 0 as 1; a step pointing away from stop makes no rows.
  const by = (step as number | undefined) || 1;
  const rows = rangeCount(start, stop, by);
  const reported = sourceRows(rows, at, `a sequence from ${start} to ${stop} by ${by} makes`, ctx);
  return { ...emptyFlow(), rows, reported };
}

/**
 * A graticule is one datum, but its cost is its points: one line per step over the extent, each
 * drawn with a point every `precision` degrees (meridians every 90°), as d3-geo generates them.
 */
function graticuleFlow(graticule: unknown, at: SpecPath, ctx: WalkContext): Flow {
  const p = isRecord(graticule) ? graticule : {};
  const pair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isFiniteNumber);
  const bad = ['extent', 'extentMajor', 'extentMinor'].filter((k) => p[k] !== undefined && !(Array.isArray(p[k]) && (p[k] as unknown[]).length === 2 && (p[k] as unknown[]).every(pair)));
  bad.push(...['step', 'stepMajor', 'stepMinor'].filter((k) => p[k] !== undefined && !pair(p[k])));
  if (p.precision !== undefined && !isFiniteNumber(p.precision)) bad.push('precision');
  if (bad.length > 0) {
    ctx.report.unbounded([...at, bad[0]!], `graticule ${bad[0]} must be numbers, so the number of lines can be known.`);
    return { ...emptyFlow(), reported: true };
  }
  type Extent = [[number, number], [number, number]];
  const major = (p.extentMajor ?? p.extent ?? [[-180, -90], [180, 90]]) as Extent;
  const minor = (p.extentMinor ?? p.extent ?? [[-180, -80], [180, 80]]) as Extent;
  const stepMajor = (p.stepMajor ?? p.step ?? [90, 360]) as [number, number];
  const stepMinor = (p.stepMinor ?? p.step ?? [10, 10]) as [number, number];
  const precision = (p.precision ?? 2.5) as number;
  const points = linePoints(major, stepMajor, precision) + linePoints(minor, stepMinor, precision);
  const reported = sourceRows(points, at, 'the graticule has', ctx, 'points');
  return { ...emptyFlow(), rows: points, reported };
}

function linePoints([[ax, ay], [bx, by]]: [[number, number], [number, number]], [dx, dy]: [number, number], precision: number): number {
  const [x0, x1] = ax <= bx ? [ax, bx] : [bx, ax];
  const [y0, y1] = ay <= by ? [ay, by] : [by, ay];
  const meridians = rangeCount(Math.ceil(x0 / dx) * dx, x1, dx);
  const parallels = rangeCount(Math.ceil(y0 / dy) * dy, y1, dy);
  return meridians * (rangeCount(y0, y1, 90) + 1) + parallels * (rangeCount(x0, x1, precision) + 1);
}

function sourceRows(rows: number, at: SpecPath, what: string, ctx: WalkContext, unit = 'rows'): boolean {
  if (!ctx.report.over(at, MAX_CHART_ROWS, rows, () => `${what} ${formatCount(rows)} ${unit}`)) return false;
  ctx.rowsReported = true;
  return true;
}
