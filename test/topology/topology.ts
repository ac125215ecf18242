/**
 * `npm run topology`: the scale-out topology's long form — 2 × `kiln serve --no-worker` and
 * 2 × `kiln worker` on one PostgreSQL and one S3 bucket (s3rver on loopback), more jobs (images,
 * documents), more SIGKILLed workers (mid-encode, mid-upload). Prints what it counted and exits 1
 * when any promise was broken or a process was left.
 *
 *   npm run topology               # long form
 *   npm run topology -- --short    # the short form npm test runs
 */
import { parseArgs } from 'node:util';
import { allHarnessLeftovers } from '../harness/kiln-cluster.js';
import { describeProcs } from '../harness/process-tracker.js';
import { formatTopologyReport } from './topology-report.js';
import { LONG, runTopology, SHORT } from './topology-scenario.js';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false } } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const profile = values.short ? SHORT : LONG;
const r = await runTopology(profile, (line) => console.log(`  ${line}`));
console.log('\n' + formatTopologyReport(r));
const left = allHarnessLeftovers();
console.log(`processes left by the harness: ${left.length === 0 ? 'none' : describeProcs(left)}`);
process.exit(r.problems.length > 0 || left.length > 0 ? 1 : 0);
