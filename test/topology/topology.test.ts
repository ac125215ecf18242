import { describe, expect, it } from 'vitest';
import { allHarnessLeftovers } from '../harness/kiln-cluster.js';
import { describeProcs } from '../harness/process-tracker.js';
import { formatTopologyReport } from './topology-report.js';
import { runTopology, SHORT } from './topology-scenario.js';

/**
 * Many processes, one database, one bucket (the short form; `npm run topology` is the long one):
 * 2 × `kiln serve --no-worker` and 2 × `kiln worker` on one PostgreSQL and one S3 bucket, each
 * with its own data directory. Jobs made through API 1 are streamed from API 2 (every event
 * once, the job stream ending after its terminal event) and downloaded from both APIs with the
 * asset's sha256; a worker SIGKILLed mid-encode and one mid-upload lose nothing.
 */
describe('scale-out topology on S3', () => {
  it('2 APIs + 2 workers, one PostgreSQL, one bucket: streams, downloads and killed workers', async () => {
    const r = await runTopology(SHORT);
    console.log(formatTopologyReport(r));
    expect(r.problems, JSON.stringify(r.details)).toEqual([]);
    expect(r.counts.done).toBe(r.counts.jobs);
    expect(r.counts.jobStreamsEndedAfterTerminal).toBe(r.counts.jobs);
    expect(r.counts.repeatedIds).toBe(0);
    expect(r.counts.hashMismatches).toBe(0);
    expect(r.counts.workersKilled).toBe(SHORT.videoKills + SHORT.uploadKills);
    expect(describeProcs(allHarnessLeftovers())).toBe('');
  }, 170_000);
});
