import type { CompanyView } from '@kiln/shared';
import { DEFAULT_MAX_CONCURRENT_JOBS } from '@kiln/shared';
import type { Queryable } from '../jobs/job-row.js';
import { KilnError } from '../../errors.js';

interface CompanyRow {
  id: string;
  name: string;
  maxConcurrentJobs: number;
  createdAt: Date;
}

const COLUMNS = `id, name, max_concurrent_jobs AS "maxConcurrentJobs", created_at AS "createdAt"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toView = (r: CompanyRow): CompanyView => ({ ...r, createdAt: r.createdAt.toISOString() });

export function companyService(pool: Queryable) {
  return {
    async list(): Promise<CompanyView[]> {
      const { rows } = await pool.query<CompanyRow>(`SELECT ${COLUMNS} FROM companies ORDER BY created_at, id`);
      return rows.map(toView);
    },
    async create(input: { name: string; maxConcurrentJobs?: number }): Promise<CompanyView> {
      const { rows } = await pool.query<CompanyRow>(
        `INSERT INTO companies (name, max_concurrent_jobs) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        [input.name, input.maxConcurrentJobs ?? DEFAULT_MAX_CONCURRENT_JOBS],
      );
      return toView(rows[0]!);
    },
    /** The company, or 404 `company_not_found` (also for ids that are not UUIDs). */
    async require(companyId: string): Promise<CompanyView> {
      if (!UUID.test(companyId)) throw KilnError.of('company_not_found');
      const { rows } = await pool.query<CompanyRow>(`SELECT ${COLUMNS} FROM companies WHERE id = $1`, [companyId]);
      if (!rows[0]) throw KilnError.of('company_not_found');
      return toView(rows[0]);
    },
    /** On first start in local_trusted mode there is one company to work in. */
    async ensureDefault(): Promise<{ company: CompanyView; created: boolean }> {
      const existing = await this.list();
      if (existing[0]) return { company: existing[0], created: false };
      return { company: await this.create({ name: 'Default company' }), created: true };
    },
  };
}

export type CompanyService = ReturnType<typeof companyService>;
export const isUuid = (s: string) => UUID.test(s);
