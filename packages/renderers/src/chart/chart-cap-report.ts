import type { CapViolation } from '@kiln/shared';

export type SpecPath = readonly (string | number)[];

/** An input whose cost the caps cannot bound (a signal where a number must be), with its place. */
export interface UnboundedInput {
  path: (string | number)[];
  message: string;
}

/** What a walk over a chart spec found: inputs over a cap, and inputs that cannot be bounded. */
export interface ChartCapReport {
  violations: CapViolation[];
  unbounded: UnboundedInput[];
}

/**
 * Collects findings; paths are from the request root (`['input', 'spec', 'data', 'sequence']`).
 * Findings stop being recorded past a few dozen: a hostile spec could otherwise make the answer
 * as large as itself.
 */
export function createCapReport() {
  const report: ChartCapReport = { violations: [], unbounded: [] };
  return {
    report,
    /**
     * Records `actual` over `limit`; returns true when it was (so callers can stop cascades). The
     * message is built only then: most checks pass, and a 5 MB spec makes hundreds of thousands.
     */
    over(at: SpecPath, limit: number, actual: number, message: () => string): boolean {
      if (!(actual > limit)) return false;
      if (report.violations.length < MAX_FINDINGS) {
        report.violations.push({ path: [...at], message: `${message()} (limit ${formatCount(limit)})`, limit, actual: Math.min(actual, Number.MAX_VALUE) });
      }
      return true;
    },
    /** Records `actual` below a minimum. */
    under(at: SpecPath, limit: number, actual: number, message: () => string): boolean {
      if (!(actual < limit)) return false;
      if (report.violations.length < MAX_FINDINGS) report.violations.push({ path: [...at], message: `${message()} (minimum ${limit})`, limit, actual });
      return true;
    },
    unbounded(at: SpecPath, message: string): void {
      if (report.unbounded.length < MAX_FINDINGS) report.unbounded.push({ path: [...at], message });
    },
  };
}
export type CapReporter = ReturnType<typeof createCapReport>;

const MAX_FINDINGS = 50;

/** A count for messages: 1e9 → "1,000,000,000"; past 1e15 in exponent form. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return 'unboundedly many';
  return n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US');
}

/** `a × b` for non-negative bounds, where 0 × ∞ is 0 (nothing times anything is nothing). */
export function times(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How many numbers d3's `range(start, stop, step)` makes (Vega's sequence and graticule lines use
 * it): ceil((stop − start) / step), and none when the step points away from stop or is 0.
 */
export function rangeCount(start: number, stop: number, step: number): number {
  const n = Math.ceil((stop - start) / step);
  return Number.isNaN(n) || n < 0 || !Number.isFinite(step) || step === 0 ? 0 : n;
}
