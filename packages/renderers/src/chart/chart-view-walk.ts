import { MAX_CHART_FACET_CELLS, MAX_CHART_SIDE, MAX_CHART_VIEWS } from '@kiln/shared';
import { formatCount, isFiniteNumber, isRecord, times, type SpecPath } from './chart-cap-report.js';
import { sourceFlow } from './chart-data-sources.js';
import { distinctLower, distinctUpper, emptyFlow, type Flow, type WalkContext } from './chart-flow.js';
import { applyTransforms, checkBin, imputeRows } from './chart-transform-caps.js';

/** What one view (and everything inside it) adds up to. */
export interface ViewTotals {
  /** Unit views laid out, repeats multiplied out (what the compiler works through). */
  views: number;
  /** Facet cells × views in each cell (what the renderer lays out). */
  cells: number;
  /** Rows drawn, summed over unit views (an upper bound). */
  rows: number;
  /** Plot area in SVG units; a lower bound (axes, legends and titles only add to it). */
  width: number;
  height: number;
  /** A cap was already reported inside this view: its ancestors would only repeat it. */
  reported: { views: boolean; cells: boolean; size: boolean };
}

/** Sizes from the spec's `config.view`, with Vega-Lite's defaults. */
export interface ViewDefaults {
  continuousWidth: number;
  continuousHeight: number;
  discreteWidth: number | { step: number };
  discreteHeight: number | { step: number };
}

interface Inherited {
  encoding: Record<string, unknown>;
  defaults: ViewDefaults;
}

/**
 * Walks a Vega-Lite view tree (unit, layer, concat, repeat, facet) with the data flowing into
 * each view, multiplying out repeats and facets without expanding them, so the walk is linear in
 * the spec's size. Recursion is safe: the spec scan has already proven the spec shallow.
 *
 * Facet cells are the distinct values of the facet fields. They are counted exactly when the field
 * is in data the walk can see (inline rows, a data asset's rows at render time); for a computed
 * field they are bounded by the rows, which may refuse a facet the data would have kept small.
 */
export function walkView(node: unknown, at: SpecPath, inflow: Flow, inherited: Inherited, ctx: WalkContext, ownData = true): ViewTotals {
  if (!isRecord(node)) return leaf(0, 0, 0, 0);
  let flow = inflow;
  if (ownData && node.data !== undefined) flow = node.data === null ? emptyFlow() : sourceFlow(node.data, [...at, 'data'], ctx);
  flow = applyTransforms(flow, node.transform, [...at, 'transform'], ctx);

  if (isRecord(node.repeat) || Array.isArray(node.repeat)) return repeatView(node, at, flow, inherited, ctx);
  if (node.facet !== undefined && node.spec !== undefined) return facetView(node, at, flow, inherited, ctx);
  if (Array.isArray(node.layer)) return layerView(node, at, flow, inherited, ctx);
  for (const key of ['concat', 'hconcat', 'vconcat'] as const) {
    if (Array.isArray(node[key])) return concatView(node, key, at, flow, inherited, ctx);
  }
  return unitView(node, at, flow, inherited, ctx);
}

function repeatView(node: Record<string, unknown>, at: SpecPath, flow: Flow, inherited: Inherited, ctx: WalkContext): ViewTotals {
  const child = walkView(node.spec, [...at, 'spec'], flow, inherited, ctx);
  const length = (v: unknown) => (Array.isArray(v) ? v.length : 1);
  let across: number;
  let down: number;
  let layers = 1;
  if (Array.isArray(node.repeat)) {
    const k = node.repeat.length;
    across = Math.min(k, isFiniteNumber(node.columns) && node.columns > 0 ? node.columns : k);
    down = across > 0 ? Math.ceil(k / across) : 0;
  } else {
    const repeat = node.repeat as Record<string, unknown>;
    across = length(repeat.column);
    down = length(repeat.row);
    layers = length(repeat.layer);
  }
  const count = times(times(across, down), layers);
  // A wrapped repeat's last row may be short; `count` is then the number of fields, not the grid.
  const copies = Array.isArray(node.repeat) ? node.repeat.length : count;
  const totals: ViewTotals = {
    views: times(copies, child.views),
    cells: times(copies, child.cells),
    rows: times(copies, child.rows),
    width: times(across, child.width),
    height: times(down, child.height),
    reported: { ...child.reported },
  };
  return checked(totals, [...at, 'repeat'], () => `the repeat (${formatCount(copies)} copies)`, ctx);
}

function facetView(node: Record<string, unknown>, at: SpecPath, flow: Flow, inherited: Inherited, ctx: WalkContext): ViewTotals {
  const facet = node.facet;
  const where = [...at, 'facet'];
  const defs: FacetDef[] = isRecord(facet) && ('row' in facet || 'column' in facet)
    ? [['row', facet.row, [...where, 'row']], ['column', facet.column, [...where, 'column']]]
    : [['facet', facet, where]];
  const cells = facetCells(defs, flow, ctx);
  const child = walkView(node.spec, [...at, 'spec'], { ...flow, partitions: Math.min(flow.rows, times(flow.partitions, cells.upper)) }, { ...inherited, encoding: {} }, ctx);
  return facetTotals(child, cells, node.columns, [...at, 'facet'], ctx);
}

/**
 * Distinct values of the facet fields: their product bounds the cells from above (for the cap);
 * per channel, a lower bound lays out the grid (for the size).
 */
type FacetDef = [channel: 'row' | 'column' | 'facet', def: unknown, at: SpecPath];

function facetCells(defs: FacetDef[], flow: Flow, ctx: WalkContext) {
  let upper = 1;
  const lower = { row: 1, column: 1, wrapped: 0 };
  for (const [channel, def, at] of defs) {
    if (!isRecord(def)) continue;
    checkBin(def.bin, def.field, flow, [...at, 'bin'], ctx);
    upper = times(upper, distinctUpper(flow, def.field, ctx));
    const n = distinctLower(flow, def.field, ctx);
    if (channel === 'facet') lower.wrapped = n;
    else lower[channel] = n;
  }
  return { upper, lower };
}

function facetTotals(child: ViewTotals, cells: ReturnType<typeof facetCells>, columns: unknown, at: SpecPath, ctx: WalkContext): ViewTotals {
  let across = cells.lower.column;
  let down = cells.lower.row;
  if (cells.lower.wrapped > 0) {
    // A wrapped facet fills rows of `columns` cells (one row when unset).
    const n = cells.lower.wrapped;
    across = Math.min(n, isFiniteNumber(columns) && columns > 0 ? columns : n);
    down = Math.ceil(n / across);
  }
  const totals: ViewTotals = {
    views: child.views,
    cells: times(cells.upper, child.views) + child.cells,
    rows: child.rows, // the cells split the rows between them
    width: times(across, child.width),
    height: times(down, child.height),
    reported: { ...child.reported },
  };
  return checked(totals, at, () => `the facet (up to ${formatCount(cells.upper)} cells of ${formatCount(child.views)} views)`, ctx);
}

function layerView(node: Record<string, unknown>, at: SpecPath, flow: Flow, inherited: Inherited, ctx: WalkContext): ViewTotals {
  checkEncoding(node.encoding, flow, [...at, 'encoding'], ctx);
  const encoding = { ...inherited.encoding, ...(isRecord(node.encoding) ? node.encoding : {}) };
  const children = (node.layer as unknown[]).map((child, i) => walkView(child, [...at, 'layer', i], flow, { ...inherited, encoding }, ctx));
  let totals = sum(children, 'overlay');
  if (isFiniteNumber(node.width)) totals.width = node.width;
  if (isFiniteNumber(node.height)) totals.height = node.height;
  totals = sideCheck(totals, node, at, { width: [...at, 'layer'], height: [...at, 'layer'] }, ctx);
  return checked(totals, [...at, 'layer'], () => 'the layer', ctx);
}

function concatView(node: Record<string, unknown>, key: 'concat' | 'hconcat' | 'vconcat', at: SpecPath, flow: Flow, inherited: Inherited, ctx: WalkContext): ViewTotals {
  const items = node[key] as unknown[];
  const children = items.map((child, i) => walkView(child, [...at, key, i], flow, { ...inherited, encoding: {} }, ctx));
  let totals: ViewTotals;
  if (key === 'hconcat') totals = sum(children, 'across');
  else if (key === 'vconcat') totals = sum(children, 'down');
  else {
    // A general concat wraps after `columns` views (one row when unset); each row is at least
    // as wide as its views side by side.
    const columns = isFiniteNumber(node.columns) && node.columns > 0 ? Math.floor(node.columns) : Math.max(1, children.length);
    const rows: ViewTotals[] = [];
    for (let i = 0; i < children.length; i += columns) rows.push(sum(children.slice(i, i + columns), 'across'));
    totals = sum(rows, 'down');
  }
  return checked(totals, [...at, key], () => `the ${key}`, ctx);
}

function unitView(node: Record<string, unknown>, at: SpecPath, flow: Flow, inherited: Inherited, ctx: WalkContext): ViewTotals {
  checkEncoding(node.encoding, flow, [...at, 'encoding'], ctx);
  const encoding = { ...inherited.encoding, ...(isRecord(node.encoding) ? node.encoding : {}) };
  const drawn = encodingImpute(encoding, flow, [...at, 'encoding'], ctx);
  const width = sideSize(node.width, encoding.x, inherited.defaults.continuousWidth, inherited.defaults.discreteWidth, flow, ctx);
  const height = sideSize(node.height, encoding.y, inherited.defaults.continuousHeight, inherited.defaults.discreteHeight, flow, ctx);
  let totals: ViewTotals = { views: 1, cells: 0, rows: drawn.rows, width, height, reported: { views: false, cells: false, size: false } };
  // Without a width, a discrete x axis sets it (a step per value): report it there.
  totals = sideCheck(totals, node, at, { width: [...at, 'encoding', 'x'], height: [...at, 'encoding', 'y'] }, ctx);
  // Facet channels on a unit view: the same cells as a facet operator, one view each.
  const channels = (['row', 'column', 'facet'] as const).filter((c) => isRecord(encoding[c]));
  if (channels.length > 0) {
    const cells = facetCells(channels.map((c) => [c, encoding[c], [...at, 'encoding', c]]), flow, ctx);
    totals = facetTotals({ ...totals, cells: 0 }, cells, isRecord(encoding.facet) ? encoding.facet.columns : undefined, [...at, 'encoding', channels[0]!], ctx);
  }
  return totals;
}

/** Bins in a view's own channels (a layer's shared channels are checked once, at the layer). */
function checkEncoding(encoding: unknown, flow: Flow, at: SpecPath, ctx: WalkContext): void {
  if (!isRecord(encoding)) return;
  for (const [channel, def] of Object.entries(encoding)) {
    const defs = Array.isArray(def) ? def : [def];
    defs.forEach((d, i) => {
      if (isRecord(d) && d.bin !== undefined) checkBin(d.bin, d.field, flow, [...at, channel, ...(Array.isArray(def) ? [i] : []), 'bin'], ctx);
    });
  }
}

/** `impute` on x or y: missing keys filled in each series (the other channels' fields group them). */
function encodingImpute(encoding: Record<string, unknown>, flow: Flow, at: SpecPath, ctx: WalkContext): Flow {
  for (const [channel, other] of [['x', 'y'], ['y', 'x']] as const) {
    const def = encoding[channel];
    if (!isRecord(def) || !isRecord(def.impute)) continue;
    const key = isRecord(encoding[other]) ? (encoding[other] as Record<string, unknown>).field : undefined;
    const groupby = Object.entries(encoding)
      .filter(([c, d]) => c !== 'x' && c !== 'y' && isRecord(d) && typeof d.field === 'string')
      .map(([, d]) => (d as Record<string, unknown>).field);
    return imputeRows(flow, { impute: def.field, key, keyvals: def.impute.keyvals, groupby }, [...at, channel, 'impute'], ctx);
  }
  return flow;
}

/**
 * One side of a unit view: a number as given; `{step}` times the distinct values on that axis
 * (at least one when they can't be known yet); otherwise the config's discrete or continuous size.
 */
function sideSize(size: unknown, def: unknown, continuous: number, discrete: number | { step: number }, flow: Flow, ctx: WalkContext): number {
  if (isFiniteNumber(size)) return Math.max(0, size);
  const isDiscrete = isRecord(def) && (def.type === 'nominal' || def.type === 'ordinal' || (isRecord(def.scale) && (def.scale.type === 'band' || def.scale.type === 'point')));
  const step = isRecord(size) && isFiniteNumber(size.step) ? size.step : !isDiscrete ? undefined : typeof discrete === 'number' ? undefined : discrete.step;
  if (isDiscrete && step !== undefined) {
    const values = isRecord(def) && typeof def.field === 'string' ? distinctLower(flow, def.field, ctx) : 1;
    return times(Math.max(0, step), values);
  }
  if (isDiscrete && typeof discrete === 'number') return discrete;
  return size === 'container' ? 0 : continuous;
}

/**
 * A view wider or taller than the side cap, reported where its size is set: at `width`/`height`
 * when the view gives them, else at `fallback` (a unit's x/y channel, whose steps set it; a layer).
 */
function sideCheck(
  totals: ViewTotals,
  node: Record<string, unknown>,
  at: SpecPath,
  fallback: { width: SpecPath; height: SpecPath },
  ctx: WalkContext,
): ViewTotals {
  if (totals.reported.size) return totals;
  let reported = false;
  for (const [side, value] of [['width', totals.width], ['height', totals.height]] as const) {
    const where = node[side] !== undefined ? [...at, side] : fallback[side];
    reported = ctx.report.over(where, MAX_CHART_SIDE, value, () => `the view is ${formatCount(value)} units ${side === 'width' ? 'wide' : 'tall'}`) || reported;
  }
  return reported ? { ...totals, reported: { ...totals.reported, size: true } } : totals;
}

/** Views, cells and size of a composition, each reported at the innermost view that passes its cap. */
function checked(totals: ViewTotals, at: SpecPath, what: () => string, ctx: WalkContext): ViewTotals {
  const reported = { ...totals.reported };
  if (!reported.views && ctx.report.over(at, MAX_CHART_VIEWS, totals.views, () => `${what()} lays out ${formatCount(totals.views)} views`)) reported.views = true;
  if (!reported.cells && ctx.report.over(at, MAX_CHART_FACET_CELLS, totals.cells, () => `${what()} makes ${formatCount(totals.cells)} facet cells (cells × views in each)`)) {
    reported.cells = true;
  }
  if (!reported.size) {
    const side = Math.max(totals.width, totals.height);
    if (ctx.report.over(at, MAX_CHART_SIDE, side, () => `${what()} is at least ${formatCount(totals.width)} × ${formatCount(totals.height)} units`)) reported.size = true;
  }
  return { ...totals, reported };
}

function sum(children: ViewTotals[], layout: 'across' | 'down' | 'overlay'): ViewTotals {
  const totals = leaf(0, 0, 0, 0);
  for (const c of children) {
    totals.views += c.views;
    totals.cells += c.cells;
    totals.rows += c.rows;
    totals.width = layout === 'across' ? totals.width + c.width : Math.max(totals.width, c.width);
    totals.height = layout === 'down' ? totals.height + c.height : Math.max(totals.height, c.height);
    totals.reported.views ||= c.reported.views;
    totals.reported.cells ||= c.reported.cells;
    totals.reported.size ||= c.reported.size;
  }
  return totals;
}

function leaf(views: number, rows: number, width: number, height: number): ViewTotals {
  return { views, cells: 0, rows, width, height, reported: { views: false, cells: false, size: false } };
}
