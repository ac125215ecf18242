import path from 'node:path';
import type { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson, sleep } from '../../harness/http-client.js';
import { connectHarnessClient } from '../../harness/postgres-server.js';
import { JobStreams } from '../../harness/job-streams.js';
import { doneJobsWithoutOnePrimary, readEventFacts, readLedger, readStorageFacts, waitAllTerminal, TERMINAL } from '../fault-checks.js';
import { listSome, ResultBuilder, type ScenarioResult } from '../scenario-result.js';
import { countRunning } from '../topologies.js';

export interface TerminateOptions {
  /** fault-probe jobs submitted (alternately through both APIs). */
  jobs: number;
  jobMs: number;
  /** Job streams kept open across the fault (on both APIs). */
  streams: number;
  /** How many times every Kiln connection is terminated, `gapMs` apart. */
  rounds: number;
  gapMs: number;
  settleSeconds: number;
}

/**
 * (c) While jobs run and streams are open, every Kiln connection to PostgreSQL — API pools, event
 * LISTENers, the workers' dedicated lock/heartbeat connections and their pools — is killed with
 * pg_terminate_backend. The processes must reconnect by themselves; every stream must still end
 * with its terminal event, every job end, and none run twice (two `running` events for one
 * attempt, or two renders of it alive at once in the fault-probe ledger).
 */
export async function terminateConnections(cluster: KilnCluster, o: TerminateOptions): Promise<ScenarioResult> {
  const res = new ResultBuilder('c', `pg_terminate_backend every Kiln connection ×${o.rounds} while ${o.jobs} jobs run`);
  const streams = new JobStreams();
  const ledger = path.join(cluster.runDir, 'ledger-c.jsonl');
  try {
    const apis = ['api-1', 'api-2'];
    const ids: string[] = [];
    for (let i = 0; i < o.jobs; i++) {
      const r = await requestJson(`${cluster.companyBase(apis[i % 2]!)}/content-jobs`, {
        method: 'POST',
        body: { kind: 'fault-probe', input: { token: `c-${i}`, ledger, ms: o.jobMs, steps: 8 }, sourceTaskId: 'fault-c' },
        timeoutMs: 30_000,
      });
      if (res.check(r.status === 202, `job ${i} not accepted: ${r.status} ${JSON.stringify(r.body)}`)) ids.push(r.body.jobId);
    }
    res.r.accepted = ids.length;
    for (let i = 0; i < Math.min(o.streams, ids.length); i++) await streams.open(cluster.companyBase(apis[(i + 1) % 2]!), ids[i]!, { live: true });
    const runningAtFault = await pollUntil('jobs to be running', 60_000, async () => {
      const n = await countRunning(cluster, ids);
      return n >= Math.min(4, ids.length) ? n : undefined;
    }, 100);

    const terminated: Record<string, number>[] = [];
    const admin = await connectHarnessClient(cluster.databaseUrl);
    try {
      for (let round = 0; round < o.rounds; round++) {
        if (round > 0) await sleep(o.gapMs);
        const { rows } = await admin.query<{ app: string; n: number }>(
          `SELECT application_name AS app, count(*)::int AS n FROM (
             SELECT application_name, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
             WHERE application_name LIKE 'kiln%' AND pid <> pg_backend_pid()
           ) t WHERE ok GROUP BY 1 ORDER BY 1`,
        );
        terminated.push(Object.fromEntries(rows.map((r) => [r.app, r.n])));
      }
    } finally {
      await admin.end().catch(() => undefined);
    }
    res.check(terminated.every((t) => (t['kiln-worker'] ?? 0) > 0 && (t['kiln-events'] ?? 0) > 0), `some round found no worker or event connection to terminate: ${JSON.stringify(terminated)}`);

    const settled = await waitAllTerminal(cluster.databaseUrl, o.settleSeconds * 1000, ids);
    const stuck = settled.jobs.filter((j) => !TERMINAL.includes(j.status));
    const notDone = settled.jobs.filter((j) => j.status !== 'done');
    res.r.stuck = stuck.length;
    res.r.lost = ids.length - settled.jobs.length;
    res.check(stuck.length === 0, `${stuck.length} jobs stuck: ${listSome(stuck.map((j) => `${j.id} ${j.status}`))}`);
    res.check(notDone.length === 0, `${notDone.length} jobs did not end done: ${listSome(notDone.map((j) => `${j.id} ${j.status} ${j.errorCode}`))}`);

    const open = await streams.waitAllEnded(15_000);
    const tally = streams.tally();
    res.r.streamsLeftOpen = open.length;
    res.check(tally.endedAfterTerminal === tally.opened, `streams that did not end with their terminal event: ${JSON.stringify(streams.incomplete())}`);

    const events = await readEventFacts(cluster.databaseUrl, ids);
    const probe = readLedger(ledger);
    const twice = new Set([...events.runTwiceByEvents, ...probe.overlapping.map((t) => ids[Number(t.slice(2))]!)]);
    res.r.runTwice = twice.size;
    res.check(twice.size === 0, `jobs run twice: by events ${listSome(events.runTwiceByEvents)}; overlapping renders ${listSome(probe.overlapping)}`);
    res.check(events.wrongTerminalEventCount.length === 0, `terminal event counts: ${JSON.stringify(events.wrongTerminalEventCount)}`);
    const badAssets = await doneJobsWithoutOnePrimary(cluster.databaseUrl, ids);
    res.check(badAssets.length === 0, `done jobs without exactly one primary asset: ${JSON.stringify(badAssets)}`);
    const storage = await readStorageFacts(cluster.databaseUrl, cluster.dataDir);
    res.check(storage.orphans.length === 0, `files without asset rows: ${listSome(storage.orphans, 3)}`);

    const dead = [...cluster.processes.values()].filter((p) => !p.alive);
    res.check(dead.length === 0, `processes exited after their connections were terminated: ${dead.map((p) => `${p.name}\n${p.outputTail}`).join('\n')}`);
    for (const api of apis) {
      const ready = await requestJson(`${cluster.get(api).url}/api/ready`);
      res.check(ready.status === 200, `${api} /api/ready answered ${ready.status} afterwards: ${JSON.stringify(ready.body)}`);
    }
    Object.assign(res.r.details, {
      runningAtFault,
      terminatedPerRound: terminated,
      statuses: settled.jobs.reduce<Record<string, number>>((m, j) => ((m[j.status] = (m[j.status] ?? 0) + 1), m), {}),
      jobsThatLostAnAttempt: settled.jobs.filter((j) => j.attempt > 1 || j.lostAttempts > 0).length,
      retriedBy: events.retriedBy,
      sameAttemptRunningAgain: events.sameAttemptRunning.length,
      renders: probe.renders,
      renderedMoreThanOnce: probe.renderedMoreThanOnce.length,
      completedTwice: probe.completedTwice.length,
      streams: tally,
      secondsToSettle: settled.ms / 1000,
    });
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    streams.closeAll();
  }
  return res.finish();
}
