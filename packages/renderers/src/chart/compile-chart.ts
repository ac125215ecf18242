import * as vega from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartInput } from '@kiln/shared';
import { DEFAULT_FONT_FAMILY } from '../fonts.js';

/**
 * The spec Kiln actually renders: the caller's, copied, with the data asset's rows as top-level
 * data, the shipped font as the default (the caller's `config.font` wins) and the optional
 * background override.
 */
export function prepareSpec(input: ChartInput, assetValues?: object[]): Record<string, unknown> {
  const spec = structuredClone(input.spec);
  if (assetValues) spec.data = { values: assetValues };
  const config = (spec.config && typeof spec.config === 'object' ? spec.config : {}) as Record<string, unknown>;
  // The first family is the one resvg draws with; the others keep the SVG readable in browsers
  // that lack DejaVu.
  spec.config = { font: `${DEFAULT_FONT_FAMILY}, Verdana, sans-serif`, ...config };
  if (input.background) spec.background = input.background;
  return spec;
}

/** Collects what vega and Vega-Lite log, so warnings reach the job log instead of stdout. */
export function createLogCollector() {
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, level, args) => {
    warnings.push(`${level} ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
  });
  return { logger, warnings };
}

/**
 * Vega-Lite → Vega → a runtime dataflow description. Throws the library's own error for a spec it
 * rejects. Expressions in the spec (filters, calculate, params) are parsed to an AST and run by
 * vega-interpreter rather than compiled to JavaScript functions, so user input never becomes
 * code in the worker.
 */
export function compileChart(spec: Record<string, unknown>, logger: vega.LoggerInterface) {
  const { spec: vgSpec } = compile(spec as unknown as TopLevelSpec, { logger });
  const runtime = vega.parse(vgSpec, undefined, { ast: true });
  return { vgSpec, runtime };
}

export function createChartView(runtime: vega.Runtime, options: { loader: vega.Loader; logger: vega.LoggerInterface }) {
  return new vega.View(runtime, {
    renderer: 'none',
    loader: options.loader,
    logger: options.logger,
    logLevel: vega.Warn,
    expr: expressionInterpreter,
  });
}
