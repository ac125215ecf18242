import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/**
 * A query as a named prepared statement: PostgreSQL parses and plans it once per connection and
 * then reuses the plan, where an unnamed statement is planned on every call — for Kiln's job
 * statements (several CTEs) planning cost more than running them. The name is derived from the
 * text, so a statement built from parts (a transition's SET list) gets one per variant.
 *
 * Only for statements whose result columns are spelled out: a cached `SELECT *` would fail
 * ("cached plan must not change result type") after a migration adds a column.
 */
export function prepared(text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  let name = names.get(text);
  if (!name) {
    name = `kiln_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return { name, text, values };
}
