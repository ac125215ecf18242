import { useEffect, useState } from 'react';
import type { CompanyStats } from '@kiln/shared';
import { useKiln } from '../api/kiln-client.js';

/** How often the numbers are asked for (the server keeps them for 2 s). */
const REFRESH_MS = 5000;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The company's queue depth and throughput — queued and running now, ended in the last minute and
 * hour — from `GET /api/companies/:companyId/stats`, the same numbers `/metrics` exports. Each
 * kind's share is in the tooltip. Shows nothing until the first answer, and keeps the last
 * numbers when a refresh fails.
 */
export function QueueStats({ companyId }: { companyId: string }) {
  const client = useKiln();
  const [stats, setStats] = useState<CompanyStats | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const load = () =>
      client
        .getStats(companyId, { signal: controller.signal })
        .then((s) => !controller.signal.aborted && setStats(s))
        .catch(() => {});
    setStats(null);
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [client, companyId]);

  if (!stats) return null;
  const t = stats.totals;
  const byKind = stats.kinds
    .map((k) => `${k.kind}: ${count(k.queued)} queued, ${count(k.running)} running, ${count(k.finishedLastMinute)} in the last minute, ${count(k.finishedLastHour)} in the last hour`)
    .join('\n');
  return (
    <p className="queue-stats muted small" data-queued={t.queued} data-running={t.running} title={byKind || undefined}>
      <strong>{count(t.queued)}</strong> queued · <strong>{count(t.running)}</strong> running · ended{' '}
      <strong>{count(t.finishedLastMinute)}</strong> in the last minute, <strong>{count(t.finishedLastHour)}</strong> in the last hour
    </p>
  );
}
