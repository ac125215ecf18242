import { parseExpression } from 'vega';
import { MAX_CHART_EXPRESSION_SEQUENCE, MAX_CHART_PAD_WIDTH } from '@kiln/shared';
import { formatCount, rangeCount, type CapReporter, type SpecPath } from './chart-cap-report.js';
import { numberFormatWidth } from './chart-number-format.js';

/**
 * Expression functions whose cost is set by an argument rather than by the data: `sequence` and
 * `pad` allocate what their arguments ask for, `format` pads to its specifier's width, the time
 * sequences span whatever dates they are given, and `data()` hands a whole dataset to an
 * expression that may run once per row (rows × rows).
 */
const COSTLY_CALL = /\b(?:sequence|timeSequence|utcSequence|pad|format|data)\s*\(/;

/** Whether a string mentions a costly function at all (cheap; most strings don't). */
export function mentionsCostlyCall(text: string): boolean {
  return COSTLY_CALL.test(text);
}

/**
 * Checks one string of the spec that may be a Vega expression (filters, `calculate`, `expr`,
 * label expressions: they live under too many keys to list, so every string is a candidate).
 * Only strings that mention a costly function are parsed; one that doesn't parse is not an
 * expression, or one the compiler will reject anyway.
 */
export function checkExpressionString(text: string, at: SpecPath, report: CapReporter): void {
  if (!mentionsCostlyCall(text)) return;
  let ast: unknown;
  try {
    ast = parseExpression(text);
  } catch {
    return;
  }
  // Iterative: an expression nests as deep as its text, and this runs before any depth check of it.
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const n = node as { type?: string; callee?: { type?: string; name?: string }; arguments?: unknown[] };
    if (n.type === 'CallExpression' && n.callee?.type === 'Identifier') checkCall(n.callee.name!, n.arguments ?? [], text, at, report);
    for (const value of Object.values(node)) if (value && typeof value === 'object') stack.push(value);
  }
}

function checkCall(name: string, args: unknown[], text: string, at: SpecPath, report: CapReporter): void {
  const quoted = `in ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}`;
  switch (name) {
    case 'sequence': {
      const nums = args.map(literalNumber);
      if (nums.length === 0 || nums.length > 3 || nums.some((v) => v === undefined)) {
        report.unbounded(at, `sequence() needs plain numbers as arguments so its length can be known (${quoted}).`);
        return;
      }
      const [a, b, c] = nums as number[];
      const count = nums.length === 1 ? rangeCount(0, a!, 1) : rangeCount(a!, b!, c ?? 1);
      report.over(at, MAX_CHART_EXPRESSION_SEQUENCE, count, () => `sequence() makes ${formatCount(count)} numbers, and may run once per row (${quoted})`);
      return;
    }
    case 'pad': {
      const length = literalNumber(args[1]);
      if (length === undefined) report.unbounded(at, `pad() needs a plain number as its length (${quoted}).`);
      else report.over(at, MAX_CHART_PAD_WIDTH, length, () => `pad() pads to ${formatCount(length)} characters (${quoted})`);
      return;
    }
    case 'format': {
      const spec = args[1] as { type?: string; value?: unknown } | undefined;
      if (spec?.type !== 'Literal' || typeof spec.value !== 'string') {
        report.unbounded(at, `format() needs a literal format string so its width can be known (${quoted}).`);
        return;
      }
      const width = numberFormatWidth(spec.value);
      report.over(at, MAX_CHART_PAD_WIDTH, width, () => `format() pads numbers to ${formatCount(width)} characters (${quoted})`);
      return;
    }
    case 'timeSequence':
    case 'utcSequence':
      report.unbounded(at, `${name}() makes one date per step between two dates, which Kiln can't bound; use a sequence data generator or explicit values (${quoted}).`);
      return;
    case 'data':
      report.unbounded(at, `data() reads a whole dataset inside an expression that may run once per row; Kiln doesn't allow it (${quoted}).`);
      return;
  }
}

/** A number written as such (`5`, `-1e3`), or undefined for anything computed. */
function literalNumber(node: unknown): number | undefined {
  const n = node as { type?: string; value?: unknown; operator?: string; argument?: unknown } | undefined;
  if (n?.type === 'Literal' && typeof n.value === 'number') return n.value;
  if (n?.type === 'UnaryExpression' && (n.operator === '-' || n.operator === '+')) {
    const inner = literalNumber(n.argument);
    return inner === undefined ? undefined : n.operator === '-' ? -inner : inner;
  }
  return undefined;
}
