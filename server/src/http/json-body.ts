import { KilnError } from '../errors.js';

/**
 * Deepest nesting a JSON body may have. Real inputs (a Vega-Lite spec is the deepest) stay well
 * under 20 levels; 5,000 levels once overflowed the stack of code that walks inputs recursively.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Why a parsed value may not go further, or null. Strings (keys included) must be well-formed
 * Unicode without NUL: PostgreSQL cannot store `\u0000` in text or jsonb, and a lone surrogate
 * cannot be encoded as UTF-8 at all. Walks iteratively (a stack, not recursion) and stops at the
 * first problem, so the cost is linear in the body whatever its shape.
 */
export function findUnacceptableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): { path: (string | number)[]; message: string } | null {
  const stack: { v: unknown; depth: number; path: (string | number)[] }[] = [{ v: value, depth: 0, path: [] }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = badString(v);
      if (problem) return { path, message: problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: [...path, i] });
    } else {
      for (const [k, child] of Object.entries(v)) {
        const problem = badString(k);
        if (problem) return { path: [...path, k], message: `key: ${problem}` };
        stack.push({ v: child, depth: depth + 1, path: [...path, k] });
      }
    }
  }
  return null;
}

export function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!isWellFormed(s)) return 'contains a lone UTF-16 surrogate (e.g. "\\ud800"), which is not valid Unicode';
  return null;
}

// String.prototype.isWellFormed is in Node 20 (V8 11.3) but not in the ES2023 lib we compile against.
const isWellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The body parser: JSON, an empty body as "no body", and the checks above before anything walks it. */
export function parseJsonBody(body: string): unknown {
  if (body === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw KilnError.of('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`);
  }
  const problem = findUnacceptableJson(value);
  if (problem) {
    const cap = problem.message.startsWith('nested') ? { limit: MAX_JSON_DEPTH, actual: nestingDepth(value) } : {};
    throw KilnError.of('validation_failed', `The request body ${problem.message}.`, [{ path: problem.path, message: problem.message, ...cap }]);
  }
  return value;
}

/** Levels of arrays and objects on the deepest path (a scalar: 0). Iterative, linear in the value. */
export function nestingDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}
