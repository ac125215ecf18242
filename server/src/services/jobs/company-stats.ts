import type { CompanyStats } from '@kiln/shared';
import { cachedReads } from '../../db/cached-read.js';
import type { Queryable } from './job-row.js';
import { countActiveJobsByKind, countFinishedJobsByKind } from './queue-stats-store.js';

/** A dashboard polls every few seconds; a company's numbers are read at most this often. */
const STATS_CACHE_MS = 2000;

/**
 * Queue depth and throughput of one company, by kind: the numbers the dashboard shows, as JSON
 * (the same queries as the `/metrics` gauges, scoped to the company). Two statements, on the
 * partial queue/running indexes and on `content_jobs_company_finished_idx`.
 */
export function companyStatsReader(pool: Queryable) {
  const read = cachedReads(
    async (companyId: string): Promise<CompanyStats> => {
      const [active, finished] = await Promise.all([countActiveJobsByKind(pool, companyId), countFinishedJobsByKind(pool, companyId)]);
      const byKind = new Map<string, CompanyStats['kinds'][number]>();
      const row = (kind: string) => {
        let r = byKind.get(kind);
        if (!r) byKind.set(kind, (r = { kind, queued: 0, running: 0, finishedLastMinute: 0, finishedLastHour: 0 }));
        return r;
      };
      for (const a of active) row(a.kind)[a.status] = a.n;
      for (const f of finished) Object.assign(row(f.kind), { finishedLastMinute: f.lastMinute, finishedLastHour: f.lastHour });
      const kinds = [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind));
      const sum = (k: 'queued' | 'running' | 'finishedLastMinute' | 'finishedLastHour') => kinds.reduce((n, r) => n + r[k], 0);
      return {
        companyId,
        at: new Date().toISOString(),
        totals: { queued: sum('queued'), running: sum('running'), finishedLastMinute: sum('finishedLastMinute'), finishedLastHour: sum('finishedLastHour') },
        kinds,
      };
    },
    STATS_CACHE_MS,
    1000,
  );
  return { read };
}
