import type { CapReporter, SpecPath } from './chart-cap-report.js';
import { times } from './chart-cap-report.js';
import { fieldRoot, type FieldFacts, type FieldStats } from './chart-field-stats.js';

/**
 * The data at one point of a view's pipeline, as far as the caps can tell without running it.
 * `rows` is an upper bound. `records` are the source rows when the walk can see them (inline
 * values; a data asset at render time); a field keeps its source facts until a transform writes it.
 */
export interface Flow {
  rows: number;
  records?: readonly unknown[];
  /** Top-level fields transforms have written since the source: their source facts no longer hold. */
  written: ReadonlySet<string>;
  /** After a transform that replaces rows (aggregate, density, pivot …), the only fields left from the source. */
  kept?: ReadonlySet<string>;
  /** The rows are a data asset not read yet (at submit): checks that need them wait for the render. */
  deferred: boolean;
  /** Facet cells the rows are split into; per-group transforms run once per cell and group. */
  partitions: number;
  /** A rows violation was reported along this pipeline; later steps would only repeat it. */
  reported?: boolean;
}

/** What the walk over one spec shares. */
export interface WalkContext {
  report: CapReporter;
  stats: FieldStats;
  /** The spec's top-level `datasets`, and where they are in the request. */
  datasets: Record<string, unknown>;
  datasetsPath: SpecPath;
  datasetFlows: Map<string, Flow>;
  /** A rows violation was recorded: later totals would only repeat it. */
  rowsReported: boolean;
  /** Rows held by sources no view draws (lookup tables). */
  heldRows: number;
}

export function emptyFlow(): Flow {
  return { rows: 0, written: new Set(), deferred: false, partitions: 1 };
}

/** The source facts of `field` at this point of the pipeline, if the walk can know them. */
export function fieldFacts(flow: Flow, field: unknown, ctx: WalkContext): FieldFacts | undefined {
  if (!flow.records || typeof field !== 'string') return undefined;
  const root = fieldRoot(field);
  if (flow.written.has(root) || (flow.kept && !flow.kept.has(root))) return undefined;
  return ctx.stats.facts(flow.records, field);
}

/** Distinct values of `field`: exact when its source facts are known, else at most the rows. */
export function distinctUpper(flow: Flow, field: unknown, ctx: WalkContext): number {
  return Math.min(fieldFacts(flow, field, ctx)?.distinct ?? flow.rows, flow.rows);
}

/** Distinct values of `field` for size estimates, which must not overstate: 1 when unknown. */
export function distinctLower(flow: Flow, field: unknown, ctx: WalkContext): number {
  return fieldFacts(flow, field, ctx)?.distinct ?? Math.min(1, flow.rows);
}

/** Groups a per-group transform makes: facet cells × distinct values of each groupby field, at most the rows. */
export function groupCount(flow: Flow, groupby: unknown, ctx: WalkContext): number {
  let groups = flow.partitions;
  if (Array.isArray(groupby)) for (const field of groupby) groups = times(groups, distinctUpper(flow, field, ctx));
  return Math.min(groups, flow.rows);
}

/**
 * Written fields tracked per pipeline. Each transform copies the set, so a spec of thousands of
 * `calculate`s would make the walk quadratic; past this many the source facts are dropped
 * instead (bounds then come from the row count alone). Real pipelines write a handful.
 */
const MAX_TRACKED_WRITES = 64;

/** The flow after a transform that writes `fields` (and maybe changes the row count). */
export function writing(flow: Flow, fields: unknown[], rows = flow.rows): Flow {
  if (!flow.records) return { ...flow, rows };
  const written = new Set(flow.written);
  for (const f of fields.flat()) if (typeof f === 'string') written.add(fieldRoot(f));
  if (written.size > MAX_TRACKED_WRITES) return { ...flow, rows, records: undefined, written: new Set() };
  return { ...flow, rows, written };
}

/** The flow after a transform that replaces the rows, keeping only `kept` fields from the source. */
export function replacing(flow: Flow, kept: unknown, rows: number): Flow {
  const keep = new Set<string>();
  if (Array.isArray(kept)) for (const f of kept) if (typeof f === 'string') keep.add(fieldRoot(f));
  const previous = flow.kept;
  return { ...flow, rows, kept: previous ? new Set([...keep].filter((f) => previous.has(f))) : keep };
}
