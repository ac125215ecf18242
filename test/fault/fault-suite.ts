import { allHarnessLeftovers } from '../harness/kiln-cluster.js';
import { describeProcs } from '../harness/process-tracker.js';
import type { ScenarioResult } from './scenario-result.js';
import { killServerUnderLoad, type KillServerOptions } from './scenarios/kill-server-under-load.js';
import { killWorkerMidEncode, type KillWorkerOptions } from './scenarios/kill-worker-mid-encode.js';
import { terminateConnections, type TerminateOptions } from './scenarios/terminate-connections.js';
import { databaseOutage, type OutageOptions } from './scenarios/database-outage.js';
import { streamReplayInterrupted } from './scenarios/stream-replay-interrupted.js';
import { drainOnSigterm, type DrainOptions } from './scenarios/drain-on-sigterm.js';
import { startTwoApisTwoWorkers } from './topologies.js';

/**
 * The fault suite's two sizes. The short form runs inside `npm test` (at most 3 minutes on a
 * 2-core machine, beside other test files); the long form is `npm run chaos`. Same scenarios,
 * same checks; only the counts and durations differ.
 */
export interface FaultProfile {
  name: 'short' | 'long';
  killServer: KillServerOptions;
  killWorker: KillWorkerOptions;
  terminate: TerminateOptions;
  outage: OutageOptions;
  drain: DrainOptions;
}

export const SHORT: FaultProfile = {
  name: 'short',
  killServer: { clients: 16, loadSeconds: 5, kills: 1, jobMs: 200, pauseMs: 400, imageEvery: 5, settleSeconds: 60, crashWindowMs: 5000, survivorBoundMs: 10_000 },
  killWorker: { videoSeconds: 18, survivorBoundMs: 10_000, settleSeconds: 120 },
  terminate: { jobs: 6, jobMs: 2500, streams: 6, rounds: 1, gapMs: 1500, settleSeconds: 60 },
  outage: { outages: [10], jobs: 6, jobMs: 3000, streams: 4, probeEveryMs: 2000, answerBoundMs: 15_000, settleSeconds: 60 },
  drain: { longJobMs: 30_000, shortJobMs: 3000, graceMs: 8000, settleSeconds: 90 },
};

export const LONG: FaultProfile = {
  name: 'long',
  killServer: { clients: 16, loadSeconds: 30, kills: 2, jobMs: 300, pauseMs: 500, imageEvery: 4, settleSeconds: 60, crashWindowMs: 5000, survivorBoundMs: 10_000 },
  killWorker: { videoSeconds: 36, survivorBoundMs: 10_000, settleSeconds: 180 },
  terminate: { jobs: 16, jobMs: 5000, streams: 12, rounds: 3, gapMs: 1500, settleSeconds: 90 },
  outage: { outages: [10, 30], jobs: 10, jobMs: 6000, streams: 8, probeEveryMs: 1500, answerBoundMs: 15_000, settleSeconds: 90 },
  drain: { longJobMs: 30_000, shortJobMs: 3000, graceMs: 8000, settleSeconds: 90 },
};

export type ScenarioId = 'a' | 'b' | 'c' | 'c2' | 'd' | 'e';

/**
 * Runs the chosen scenarios in order: (a) on a `kiln serve` of its own, (b)–(d) on one shared
 * 2-API/2-worker cluster. Each result is handed to `onResult` as soon as it exists. After the
 * cleanup, a scan of the process table for anything the harness started must come back empty.
 */
export async function runFaultSuite(
  profile: FaultProfile,
  only: ScenarioId[] = ['a', 'b', 'c', 'c2', 'd', 'e'],
  onResult: (r: ScenarioResult) => void = () => undefined,
): Promise<{ results: ScenarioResult[]; leftovers: string[] }> {
  const results: ScenarioResult[] = [];
  const done = (r: ScenarioResult) => {
    results.push(r);
    onResult(r);
  };
  if (only.includes('a')) done(await killServerUnderLoad(profile.killServer));
  if (only.some((id) => id !== 'a' && id !== 'e')) {
    const cluster = await startTwoApisTwoWorkers('scale-out');
    let failed = false;
    try {
      if (only.includes('b')) done(await killWorkerMidEncode(cluster, profile.killWorker));
      if (only.includes('c')) done(await terminateConnections(cluster, profile.terminate));
      if (only.includes('c2')) done(await streamReplayInterrupted(cluster));
      if (only.includes('d')) done(await databaseOutage(cluster, profile.outage));
      failed = results.some((r) => r.problems.length > 0 && !r.knownBug);
    } finally {
      const { stragglers, postgresLeft } = await cluster.cleanup({ keep: failed });
      const last = results[results.length - 1];
      if (last && stragglers.length > 0) last.problems.push(`processes left at cleanup of the shared cluster: ${describeProcs(stragglers)}`);
      if (last && postgresLeft) last.problems.push('PostgreSQL still ran after cleanup');
      if (failed) for (const r of results) if (r.id !== 'a' && r.id !== 'e') r.details.runDir = cluster.runDir;
    }
  }
  if (only.includes('e')) done(await drainOnSigterm(profile.drain));
  return { results, leftovers: allHarnessLeftovers().map((p) => describeProcs([p])) };
}

/** The summary table (plain text, one row per scenario). */
export function formatSummary(results: ScenarioResult[]): string {
  const head = ['scenario', 'accepted', 'lost', 'stuck', 'run twice', 'streams left open', 'recover s', 'survivors', 'problems', 'took s'];
  const fmt = (v: number | null) => (v === null ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(2));
  const rows = results.map((r) => [
    `(${r.id}) ${r.title}${r.knownBug && r.problems.length > 0 ? ' [known bug]' : ''}`,
    fmt(r.accepted), fmt(r.lost), fmt(r.stuck), fmt(r.runTwice), fmt(r.streamsLeftOpen), fmt(r.recoverSeconds), fmt(r.survivors),
    String(r.problems.length), (r.durationMs / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The summary table, then each scenario's details and problems. */
export function formatReport(results: ScenarioResult[], leftovers: string[]): string {
  const parts = [formatSummary(results)];
  for (const r of results) {
    parts.push(`\n(${r.id}) ${r.title}\n  details: ${JSON.stringify(r.details)}`);
    for (const p of r.problems) parts.push(`  ${r.knownBug ? 'KNOWN BUG' : 'PROBLEM'}: ${p}`);
  }
  parts.push(`\nprocesses left by the harness after the run: ${leftovers.length === 0 ? 'none' : leftovers.join('; ')}`);
  return parts.join('\n');
}
