import type { Queryable } from '../services/jobs/job-row.js';

/**
 * A company's rows of one table, newest first, with equality filters and keyset pagination. The
 * cursor is the id of the previous page's last row; the page continues strictly below its
 * (created_at, id), so rows added meanwhile sort above it and pages neither repeat nor skip.
 */
export async function filteredPage<R extends Record<string, any>>(
  q: Queryable,
  spec: {
    table: 'content_jobs' | 'assets';
    /** The alias `columns` is written against. */
    alias: 'j' | 'a';
    columns: string;
    companyId: string;
    /** Column name → value; undefined values are not filtered on. */
    equals: Record<string, unknown>;
    afterId?: string;
    limit: number;
  },
): Promise<R[]> {
  const values: unknown[] = [spec.companyId];
  const t = spec.alias;
  const where = [`${t}.company_id = $1`];
  for (const [column, value] of Object.entries(spec.equals)) {
    if (value === undefined || value === null || value === '') continue;
    values.push(value);
    where.push(`${t}.${column} = $${values.length}`);
  }
  if (spec.afterId) {
    values.push(spec.afterId);
    where.push(`(${t}.created_at, ${t}.id) < (SELECT c.created_at, c.id FROM ${spec.table} c WHERE c.id = $${values.length} AND c.company_id = $1)`);
  }
  values.push(spec.limit);
  const { rows } = await q.query<R>(
    `SELECT ${spec.columns} FROM ${spec.table} ${t} WHERE ${where.join(' AND ')}
     ORDER BY ${t}.created_at DESC, ${t}.id DESC LIMIT $${values.length}`,
    values,
  );
  return rows;
}
