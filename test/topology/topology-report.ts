import type { TopologyResult } from './topology-scenario.js';

/** What a topology run counted, as plain text. */
export function formatTopologyReport(r: TopologyResult): string {
  const c = r.counts;
  const lines = [
    `topology (${r.profile} form): 2 × kiln serve --no-worker + 2 × kiln worker, one PostgreSQL, one S3 bucket — ${(r.durationMs / 1000).toFixed(1)} s`,
    `  jobs: ${c.jobs} submitted through api-1, ${c.done} done; ${c.eventsInDb} events in the database`,
    `  api-2 job streams: ${c.jobStreamEvents} events, ${c.jobStreamsEndedAfterTerminal}/${c.jobs} ended right after their terminal event`,
    `  company streams: ${Object.entries(c.companyStreamEvents).map(([api, n]) => `${api} ${n}`).join(', ')} events; repeated ids: ${c.repeatedIds}`,
    `  downloads: ${c.downloads} (${(c.bytesDownloaded / 1024 / 1024).toFixed(1)} MiB) from both APIs, ${c.hashMismatches} not matching the asset's sha256`,
    `  workers SIGKILLed: ${c.workersKilled}; bucket objects: ${c.bucketObjects}`,
    `  details: ${JSON.stringify(r.details)}`,
    ...r.problems.map((p) => `  PROBLEM: ${p}`),
    r.problems.length === 0 ? '  no problems' : `  ${r.problems.length} problem(s)`,
  ];
  return lines.join('\n');
}
