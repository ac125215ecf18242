import { MAX_CHART_BINS, MAX_CHART_ROWS, MAX_CHART_TRANSFORM_WORK } from '@kiln/shared';
import { formatCount, isFiniteNumber, isRecord, rangeCount, times, type SpecPath } from './chart-cap-report.js';
import { sourceFlow } from './chart-data-sources.js';
import { distinctUpper, fieldFacts, groupCount, replacing, writing, type Flow, type WalkContext } from './chart-flow.js';

/**
 * Runs a view's `transform` array over the flow: each transform's effect on the row count (fold,
 * flatten, density, impute, quantile, regression, pivot multiply; aggregate and sample reduce)
 * and its own cost caps (bins, loess/density/regression/window work). Vega's own sources were read
 * to learn what each one really makes: density samples up to max(steps, maxsteps) + 1 points per
 * group, quantile one row per probability per group, impute one row per missing key per group,
 * loess scans bandwidth × n neighbours for each of n points three times.
 */
export function applyTransforms(flow: Flow, transforms: unknown, at: SpecPath, ctx: WalkContext): Flow {
  if (!Array.isArray(transforms)) return flow;
  let current = flow;
  transforms.forEach((t, i) => {
    if (isRecord(t)) current = applyTransform(current, t, [...at, i], ctx);
  });
  return current;
}

function applyTransform(flow: Flow, t: Record<string, unknown>, at: SpecPath, ctx: WalkContext): Flow {
  const groupby = Array.isArray(t.groupby) ? t.groupby : [];
  if ('sample' in t) return { ...flow, rows: Math.min(flow.rows, isFiniteNumber(t.sample) ? Math.max(0, t.sample) : 1000) };
  if ('calculate' in t || 'timeUnit' in t || 'stack' in t) return writing(flow, [t.as]);
  if ('bin' in t) {
    checkBin(t.bin, t.field, flow, [...at, 'bin'], ctx);
    return writing(flow, [t.as]);
  }
  if ('aggregate' in t) return replacing(flow, groupby, groupCount(flow, groupby, ctx));
  if ('joinaggregate' in t) return writing(flow, asFields(t.joinaggregate));
  if ('window' in t) {
    checkWindow(flow, t, at, ctx);
    return writing(flow, asFields(t.window));
  }
  if ('fold' in t) {
    const k = Array.isArray(t.fold) ? t.fold.length : 0;
    const rows = times(flow.rows, k);
    return grew(writing(flow, [t.as ?? ['key', 'value']], rows), [...at, 'fold'], () => `folding ${k} fields turns ${formatCount(flow.rows)} rows into ${formatCount(rows)}`, ctx);
  }
  if ('flatten' in t) return flatten(flow, t, at, ctx);
  if ('density' in t) return density(flow, t, groupby, at, ctx);
  if ('loess' in t) return loess(flow, t, groupby, at, ctx);
  if ('regression' in t) return regression(flow, t, groupby, at, ctx);
  if ('quantile' in t) return quantile(flow, t, groupby, at, ctx);
  if ('impute' in t) return imputeRows(flow, t, at, ctx);
  if ('pivot' in t) {
    const groups = groupCount(flow, groupby, ctx);
    const limit = isFiniteNumber(t.limit) && t.limit > 0 ? t.limit : Infinity;
    const columns = Math.min(distinctUpper(flow, t.pivot, ctx), limit);
    const cells = times(groups, columns);
    if (ctx.report.over([...at, 'pivot'], MAX_CHART_ROWS, cells, () => `pivot makes ${formatCount(groups)} rows of ${formatCount(columns)} columns: ${formatCount(cells)} cells`)) {
      ctx.rowsReported = true;
    }
    return replacing(flow, groupby, groups);
  }
  if ('lookup' in t) {
    const from = isRecord(t.from) ? t.from : {};
    if ('data' in from) ctx.heldRows += sourceFlow(from.data, [...at, 'from', 'data'], ctx).rows;
    return writing(flow, [t.as, from.fields]);
  }
  return flow; // filter, extent and anything unknown leave the row count as it is
}

/** Reports rows a transform grew past the cap (once per pipeline: later ones would repeat it). */
function grew(flow: Flow, at: SpecPath, message: () => string, ctx: WalkContext): Flow {
  if (flow.reported || !ctx.report.over(at, MAX_CHART_ROWS, flow.rows, message)) return flow;
  ctx.rowsReported = true;
  return { ...flow, reported: true };
}

function asFields(ops: unknown): unknown[] {
  return Array.isArray(ops) ? ops.map((op) => (isRecord(op) ? op.as : undefined)) : [];
}

/**
 * `flatten` makes a row per element of the arrays it flattens. Arrays that are in the data can
 * be counted; one an expression computes (`data()`, `sequence()` per row) cannot.
 */
function flatten(flow: Flow, t: Record<string, unknown>, at: SpecPath, ctx: WalkContext): Flow {
  const fields = Array.isArray(t.flatten) ? t.flatten : [];
  const written = [fields, t.as];
  if (flow.deferred) return writing(flow, written);
  let rows = 0;
  for (const field of fields) {
    const facts = fieldFacts(flow, field, ctx);
    if (!facts) {
      ctx.report.unbounded([...at, 'flatten'], `flatten of ${JSON.stringify(field)}: Kiln counts the rows flatten makes from arrays in the data, and this one is computed (or not in the data).`);
      return writing({ ...flow, reported: true }, written);
    }
    rows += facts.arrayElements; // each row yields as many rows as its longest array: at most the sum
  }
  return grew(writing(flow, written, rows), [...at, 'flatten'], () => `flatten turns ${formatCount(flow.rows)} rows into up to ${formatCount(rows)}`, ctx);
}

function density(flow: Flow, t: Record<string, unknown>, groupby: unknown[], at: SpecPath, ctx: WalkContext): Flow {
  for (const key of ['steps', 'minsteps', 'maxsteps', 'bandwidth'] as const) {
    if (t[key] !== undefined && !isFiniteNumber(t[key])) {
      ctx.report.unbounded([...at, key], `density ${key} must be a number.`);
      return { ...flow, reported: true };
    }
  }
  // As vega's KDE samples the curve: steps overrides both bounds; 0 means the default.
  const min = (t.steps as number) || (t.minsteps as number) || 25;
  const max = (t.steps as number) || (t.maxsteps as number) || 200;
  const samples = Math.max(min, max) + 1;
  const groups = groupCount(flow, groupby, ctx);
  const work = times(flow.rows, samples);
  ctx.report.over([...at, 'density'], MAX_CHART_TRANSFORM_WORK, work, () => `density evaluates ${formatCount(samples)} samples over ${formatCount(flow.rows)} rows: ${formatCount(work)} steps`);
  const rows = times(groups, samples);
  return grew(replacing(flow, groupby, rows), [...at, 'density'], () => `density makes ${formatCount(samples)} samples for each of ${formatCount(groups)} groups: ${formatCount(rows)} rows`, ctx);
}

function loess(flow: Flow, t: Record<string, unknown>, groupby: unknown[], at: SpecPath, ctx: WalkContext): Flow {
  const bandwidth = t.bandwidth ?? 0.3;
  if (!isFiniteNumber(bandwidth)) {
    ctx.report.unbounded([...at, 'bandwidth'], 'loess bandwidth must be a number between 0 and 1.');
    return flow;
  }
  // A bandwidth above 1 scans more neighbours than there are rows, for every row.
  ctx.report.over([...at, 'bandwidth'], 1, bandwidth, () => `loess bandwidth ${bandwidth} is above 1`);
  const n = flow.rows;
  const work = 3 * times(Math.max(2, bandwidth * n), n);
  ctx.report.over([...at, 'loess'], MAX_CHART_TRANSFORM_WORK, work, () => `loess over ${formatCount(n)} rows with bandwidth ${bandwidth} takes ${formatCount(work)} steps`);
  return replacing(flow, [...groupby, t.on], n);
}

function regression(flow: Flow, t: Record<string, unknown>, groupby: unknown[], at: SpecPath, ctx: WalkContext): Flow {
  const method = typeof t.method === 'string' ? t.method : 'linear';
  const order = t.order ?? 3;
  if (!isFiniteNumber(order)) {
    ctx.report.unbounded([...at, 'order'], 'regression order must be a number.');
    return flow;
  }
  const k = (method === 'poly' ? Math.max(0, order) : method === 'quad' ? 2 : 1) + 1;
  // Vega skips a group with no more points than parameters; otherwise it sums k² powers over the
  // points and solves a k × k system.
  const work = flow.rows > k - 1 ? times(k * k, flow.rows) + k * k * k : 0;
  ctx.report.over([...at, 'regression'], MAX_CHART_TRANSFORM_WORK, work, () => `a ${method} regression of order ${order} over ${formatCount(flow.rows)} rows takes ${formatCount(work)} steps`);
  const perGroup = t.params === true ? 1 : method === 'linear' || method === 'constant' ? 2 : 201;
  const groups = groupCount(flow, groupby, ctx);
  const rows = times(groups, perGroup);
  return grew(replacing(flow, groupby, rows), [...at, 'regression'], () => `the regression makes ${formatCount(rows)} rows`, ctx);
}

function quantile(flow: Flow, t: Record<string, unknown>, groupby: unknown[], at: SpecPath, ctx: WalkContext): Flow {
  let probs: number;
  if (Array.isArray(t.probs)) probs = t.probs.length;
  else {
    const step = t.step ?? 0.01;
    if (!isFiniteNumber(step)) {
      ctx.report.unbounded([...at, 'step'], 'quantile step must be a number.');
      return { ...flow, reported: true };
    }
    probs = rangeCount(step / 2, 1, step);
  }
  const groups = groupCount(flow, groupby, ctx);
  const rows = times(groups, probs);
  return grew(replacing(flow, groupby, rows), [...at, 'quantile'], () => `quantile makes ${formatCount(probs)} rows for each of ${formatCount(groups)} groups`, ctx);
}

/** `impute` adds a row for every key missing from every group: up to groups × keys. */
export function imputeRows(flow: Flow, t: Record<string, unknown>, at: SpecPath, ctx: WalkContext): Flow {
  const groupby = Array.isArray(t.groupby) ? t.groupby : [];
  let extraKeys = 0;
  const keyvals = t.keyvals;
  if (Array.isArray(keyvals)) extraKeys = keyvals.length;
  else if (isRecord(keyvals)) {
    const { start = 0, stop, step } = keyvals;
    if (!isFiniteNumber(start) || !isFiniteNumber(stop) || (step !== undefined && !isFiniteNumber(step))) {
      ctx.report.unbounded([...at, 'keyvals'], 'impute keyvals start, stop and step must be numbers, so the number of keys can be known.');
      return { ...flow, reported: true };
    }
    extraKeys = rangeCount(start, stop, (step as number | undefined) || 1);
  }
  const keys = distinctUpper(flow, t.key, ctx) + extraKeys;
  const groups = groupCount(flow, groupby, ctx);
  const rows = flow.rows + times(groups, keys);
  return grew(writing(flow, [t.impute], rows), [...at, 'keyvals' in t ? 'keyvals' : 'impute'], () => `impute fills ${formatCount(keys)} keys in each of ${formatCount(groups)} groups: up to ${formatCount(rows)} rows`, ctx);
}

/** Window operations that look at their whole frame for every row (the others update incrementally). */
const FRAME_SCANS: Record<string, number> = { median: 1, q1: 1, q3: 1, distinct: 1, ci0: 1000, ci1: 1000 };
/** Operations that rescan only when rows leave the frame (a frame with a lower bound). */
const SLIDING_SCANS = new Set(['values', 'min', 'max', 'argmin', 'argmax']);

function checkWindow(flow: Flow, t: Record<string, unknown>, at: SpecPath, ctx: WalkContext): void {
  const frame = t.frame ?? [null, 0];
  if (!Array.isArray(frame) || frame.length !== 2 || !frame.every((f) => f === null || isFiniteNumber(f))) {
    ctx.report.unbounded([...at, 'frame'], 'window frame must be two numbers or nulls.');
    return;
  }
  const [lo, hi] = frame as (number | null)[];
  const width = lo === null || hi === null ? flow.rows : Math.min(flow.rows, Math.max(0, hi - lo + 1));
  let weight = 0;
  for (const op of Array.isArray(t.window) ? t.window : []) {
    const name = isRecord(op) && typeof op.op === 'string' ? op.op : '';
    weight += FRAME_SCANS[name] ?? (SLIDING_SCANS.has(name) && lo !== null ? 1 : 0);
  }
  const work = times(weight, times(flow.rows, width));
  ctx.report.over([...at, 'window'], MAX_CHART_TRANSFORM_WORK, work, () => `window operations scan a frame of ${formatCount(width)} rows for each of ${formatCount(flow.rows)} rows: ${formatCount(work)} steps`);
}

/**
 * A bin's cost is its number of bins (a binned scale holds every boundary). maxbins bounds it
 * unless a `step`/`steps` is given, when it is the field's span over the step; and a `base`
 * below 1 sends Vega's step search into an endless loop.
 */
export function checkBin(bin: unknown, field: unknown, flow: Flow, at: SpecPath, ctx: WalkContext): void {
  if (!isRecord(bin)) return;
  const numeric = (key: string): number | undefined => {
    const v = bin[key];
    if (v === undefined) return undefined;
    if (isFiniteNumber(v)) return v;
    ctx.report.unbounded([...at, key], `bin ${key} must be a number.`);
    return NaN;
  };
  const maxbins = numeric('maxbins');
  if (maxbins !== undefined) ctx.report.over([...at, 'maxbins'], MAX_CHART_BINS, maxbins, () => `maxbins asks for ${formatCount(maxbins)} bins`);
  const base = numeric('base');
  if (base !== undefined) ctx.report.under([...at, 'base'], 1, base, () => `bin base ${base} is below 1, and Vega's search for a step never ends`);
  const step = numeric('step');
  const minstep = numeric('minstep') ?? 0;
  let smallest = step;
  if (smallest === undefined && Array.isArray(bin.steps)) {
    for (const s of bin.steps) if (isFiniteNumber(s) && s > 0 && !(s >= (smallest ?? Infinity))) smallest = s;
  }
  if (smallest === undefined || Number.isNaN(smallest) || Number.isNaN(minstep)) return;
  const by = Math.max(smallest, minstep);
  let span: number | undefined;
  const extent = bin.extent;
  if (Array.isArray(extent) && extent.length === 2 && extent.every(isFiniteNumber)) span = Math.abs(extent[1] - extent[0]);
  else if (extent === undefined) {
    const facts = fieldFacts(flow, field, ctx);
    if (flow.rows === 0) span = 0;
    // As Vega takes the span: max − min, else |min|, else 1.
    else if (facts) span = facts.min === undefined ? 0 : facts.max! - facts.min || Math.abs(facts.min) || 1;
  }
  if (span === undefined) {
    if (!flow.deferred) ctx.report.unbounded([...at, 'step' in bin ? 'step' : 'steps'], 'a bin step over a computed field (or a parameter extent) needs a numeric bin.extent, so the number of bins can be known.');
    return;
  }
  // A step that isn't positive makes an empty range of boundaries: harmless.
  const count = by > 0 ? Math.ceil(span / by) + 1 : 0;
  ctx.report.over([...at, 'step' in bin ? 'step' : 'steps'], MAX_CHART_BINS, count, () => `bins of ${by} over a span of ${formatCount(span)} make ${formatCount(count)} bins`);
}
