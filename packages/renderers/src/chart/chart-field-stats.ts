/** What one field of a set of records holds, as far as the caps need to know. */
export interface FieldFacts {
  /** Distinct values (objects and arrays each count as distinct). */
  distinct: number;
  /** Smallest and largest numeric value (numbers and numeric strings), if any. */
  min?: number;
  max?: number;
  /** Elements of the arrays the field holds, over all records: the rows `flatten` makes of it. */
  arrayElements: number;
}

/**
 * Record visits the walk may spend on field facts. Each question costs one visit per record; a
 * spec naming thousands of fields over 100,000 rows would otherwise make the walk quadratic.
 * Past the budget the answer is "unknown", and callers fall back to bounds from the row count.
 */
const FACTS_BUDGET = 2_000_000;

/**
 * Answers questions about fields of records the walk can see (inline rows; a data asset's rows at
 * render time), each record set and field read once, within a budget of record visits.
 */
export function createFieldStats(budget = FACTS_BUDGET) {
  const cache = new WeakMap<readonly unknown[], Map<string, FieldFacts | undefined>>();
  let left = budget;
  return {
    /** Facts about `field` (Vega-Lite field syntax) in `records`; undefined when they can't be had. */
    facts(records: readonly unknown[], field: string): FieldFacts | undefined {
      let byField = cache.get(records);
      if (!byField) cache.set(records, (byField = new Map()));
      if (byField.has(field)) return byField.get(field);
      const path = fieldPath(field);
      let facts: FieldFacts | undefined;
      if (path && left >= records.length) {
        left -= records.length;
        facts = collect(records, path);
      }
      byField.set(field, facts);
      return facts;
    },
  };
}
export type FieldStats = ReturnType<typeof createFieldStats>;

/**
 * The property path of a Vega-Lite field name: `a.b` is nested, `a\.b` is one name with a dot.
 * Bracket access is rare in specs and left unparsed (undefined = unknown).
 */
export function fieldPath(field: string): string[] | undefined {
  if (field.includes('[') || field.includes(']')) return undefined;
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '\\' && i + 1 < field.length) current += field[++i];
    else if (c === '.') parts.push(current), (current = '');
    else current += c;
  }
  parts.push(current);
  return parts;
}

/** The top-level property a field reads: what a transform writing `as: "a"` would overwrite. */
export function fieldRoot(field: string): string {
  return fieldPath(field)?.[0] ?? field;
}

function collect(records: readonly unknown[], path: string[]): FieldFacts {
  const seen = new Set<unknown>();
  let objects = 0;
  let arrayElements = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const record of records) {
    // Vega-Lite wraps primitive rows as { data: value }.
    let value: unknown = record !== null && typeof record === 'object' ? record : { data: record };
    for (const key of path) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value !== null && typeof value === 'object') {
      objects++;
      if (Array.isArray(value)) arrayElements += value.length;
    } else {
      seen.add(value);
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (Number.isFinite(n)) {
        if (n < min) min = n;
        if (n > max) max = n;
      }
    }
  }
  return {
    distinct: seen.size + objects,
    arrayElements,
    ...(min <= max ? { min, max } : {}),
  };
}
