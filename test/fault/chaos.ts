/**
 * `npm run chaos`: the fault suite's long form (a few minutes). Prints the summary table — jobs
 * accepted, lost, stuck, run twice, streams left open, seconds to recover, survivors — then every
 * scenario's details and problems, and exits 1 when any promise was broken or a process was left.
 *
 *   npm run chaos                 # long form, every scenario
 *   npm run chaos -- --short      # the short form npm test runs
 *   npm run chaos -- --only b,d   # some scenarios (a, b, c, c2, d, e)
 */
import { parseArgs } from 'node:util';
import { formatReport, LONG, runFaultSuite, SHORT, type ScenarioId } from './fault-suite.js';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, only: { type: 'string' } } });
const profile = values.short ? SHORT : LONG;
const only = (values.only?.split(',').map((s) => s.trim()) ?? ['a', 'b', 'c', 'c2', 'd', 'e']) as ScenarioId[];

// Ctrl-C: exit through 'exit', where the harness kills what it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const started = Date.now();
console.log(`kiln chaos: ${profile.name} form, scenarios ${only.join(', ')}`);
const { results, leftovers } = await runFaultSuite(profile, only, (r) =>
  console.log(`  (${r.id}) ${r.title}: ${r.problems.length === 0 ? 'ok' : `${r.problems.length} problem(s)`} in ${(r.durationMs / 1000).toFixed(1)} s`),
);
console.log('\n' + formatReport(results, leftovers));
console.log(`\nkiln chaos: ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(results.some((r) => r.problems.length > 0) || leftovers.length > 0 ? 1 : 0);
