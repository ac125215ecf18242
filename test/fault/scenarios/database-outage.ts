import path from 'node:path';
import type { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson, sleep, type HttpAnswer } from '../../harness/http-client.js';
import { JobStreams } from '../../harness/job-streams.js';
import { harnessQuery } from '../../harness/postgres-server.js';
import { WORKER_LOCK_CLASS } from '../../../server/src/services/jobs/job-queue.js';
import { doneJobsWithoutOnePrimary, readEventFacts, readLedger, readStorageFacts, waitAllTerminal, TERMINAL } from '../fault-checks.js';
import { listSome, ResultBuilder, type ScenarioResult } from '../scenario-result.js';
import { countRunning } from '../topologies.js';

export interface OutageOptions {
  /** PostgreSQL is stopped this long (seconds), once per entry. */
  outages: number[];
  /** fault-probe jobs submitted before each outage (more than the workers' 4 slots, so some wait queued). */
  jobs: number;
  jobMs: number;
  streams: number;
  /** Pause between two rounds of probes during the outage. */
  probeEveryMs: number;
  /** No answer may take longer than this (a hang). */
  answerBoundMs: number;
  settleSeconds: number;
}

interface Probe {
  api: string;
  what: string;
  answer: HttpAnswer;
}

const OUTAGE_CODES = ['database_unavailable', 'database_busy'];

/** What is wrong with one answer given during the outage (null: as promised). */
function judge(p: Probe, boundMs: number): string | null {
  const a = p.answer;
  const where = `${p.api} ${p.what}`;
  if (a.status === 0) return `${where}: no answer (${a.error}) after ${Math.round(a.ms)} ms`;
  if (a.ms > boundMs) return `${where}: answered after ${Math.round(a.ms)} ms`;
  if (a.status !== 503) return `${where}: ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`;
  if (p.what === 'GET /api/ready') return null;
  const ra = Number(a.headers?.get('retry-after'));
  if (!(Number.isInteger(ra) && ra >= 1 && ra <= 5)) return `${where}: Retry-After ${a.headers?.get('retry-after')}`;
  if (!OUTAGE_CODES.includes(a.body?.error?.code) || typeof a.body?.error?.message !== 'string') return `${where}: body ${JSON.stringify(a.body).slice(0, 200)}`;
  return null;
}

/**
 * (d) PostgreSQL is stopped for a while (fast shutdown: every connection is closed) and started
 * again on the same data directory and port, while jobs are queued and running and streams are
 * open. During the outage both APIs must answer 503 — /api/ready, listing, reading and creating
 * jobs, with Retry-After and the JSON error body — within a bound, never 500, never a hang.
 * Afterwards every process must have reconnected by itself: the time to the first 200 from
 * /api/ready is measured, and every job accepted before the outage must end done.
 */
export async function databaseOutage(cluster: KilnCluster, o: OutageOptions): Promise<ScenarioResult> {
  const res = new ResultBuilder('d', `stop PostgreSQL for ${o.outages.join(' s, then ')} s`);
  const streams = new JobStreams();
  const ledger = path.join(cluster.runDir, 'ledger-d.jsonl');
  const apis = ['api-1', 'api-2'];
  const allIds: string[] = [];
  const jobOfToken = new Map<string, string>();
  const recoveries: number[] = [];
  const probeTally: Record<string, Record<string, number>> = {};
  const rounds: Record<string, unknown>[] = [];
  try {
    for (const [n, seconds] of o.outages.entries()) {
      const ids: string[] = [];
      for (let i = 0; i < o.jobs; i++) {
        const r = await requestJson(`${cluster.companyBase(apis[i % 2]!)}/content-jobs`, {
          method: 'POST',
          body: { kind: 'fault-probe', input: { token: `d${n}-${i}`, ledger, ms: o.jobMs, steps: 10 }, sourceTaskId: 'fault-d' },
          timeoutMs: 30_000,
        });
        if (res.check(r.status === 202, `job ${i} not accepted before the outage: ${r.status} ${JSON.stringify(r.body)}`)) {
          ids.push(r.body.jobId);
          jobOfToken.set(`d${n}-${i}`, r.body.jobId);
        }
      }
      allIds.push(...ids);
      for (let i = 0; i < Math.min(o.streams, ids.length); i++) await streams.open(cluster.companyBase(apis[(i + 1) % 2]!), ids[i]!, { live: true });
      const runningAtOutage = await pollUntil('jobs to be running', 60_000, async () => {
        const k = await countRunning(cluster, ids);
        return k >= 2 ? k : undefined;
      }, 100);

      const stopBegan = Date.now();
      await cluster.pg.stop();
      const downAt = Date.now();
      const probes: Probe[] = [];
      while (Date.now() - downAt < seconds * 1000) {
        const round = await Promise.all(
          apis.flatMap((api) => {
            const base = cluster.companyBase(api);
            const url = cluster.get(api).url!;
            const probe = async (what: string, p: Promise<HttpAnswer>): Promise<Probe> => ({ api, what, answer: await p });
            const t = o.answerBoundMs + 5000; // let a slow answer arrive, to report how slow it was
            return [
              probe('GET /api/ready', requestJson(`${url}/api/ready`, { timeoutMs: t })),
              probe('GET content-jobs', requestJson(`${base}/content-jobs?limit=5`, { timeoutMs: t })),
              probe('GET content-jobs/:id', requestJson(`${base}/content-jobs/${ids[0]}`, { timeoutMs: t })),
              probe('POST content-jobs', requestJson(`${base}/content-jobs`, {
                method: 'POST',
                body: { kind: 'test-slow', input: { ms: 10, steps: 1 } },
                timeoutMs: t,
              })),
            ];
          }),
        );
        probes.push(...round);
        await sleep(o.probeEveryMs);
      }
      await cluster.pg.start();
      const upAt = Date.now();

      for (const p of probes) {
        const key = `${p.what}`;
        const label = p.answer.status === 0 ? `none:${p.answer.error}` : `${p.answer.status}${p.answer.body?.error?.code ? ` ${p.answer.body.error.code}` : ''}`;
        probeTally[key] ??= {};
        probeTally[key]![label] = (probeTally[key]![label] ?? 0) + 1;
        const wrong = judge(p, o.answerBoundMs);
        if (wrong) res.r.problems.push(`outage ${n + 1} (${seconds} s): ${wrong}`);
      }
      // A POST answered 202 during the outage would be a job nobody can have stored.
      const accepted = probes.filter((p) => p.what.startsWith('POST') && p.answer.status === 202).length;
      res.check(accepted === 0, `${accepted} POSTs were accepted while PostgreSQL was down`);

      const recover = await Promise.all(
        apis.map((api) =>
          pollUntil(`${api} to be ready after the outage`, 120_000, async () => {
            const r = await requestJson(`${cluster.get(api).url}/api/ready`, { timeoutMs: 5000 });
            return r.status === 200 ? (Date.now() - upAt) / 1000 : undefined;
          }, 100).catch(() => Number.POSITIVE_INFINITY),
        ),
      );
      // Workers are back when each holds its liveness lock again (session advisory locks of class WORKER_LOCK_CLASS).
      const workers = [...cluster.processes.values()].filter((p) => p.alive && p.spec.role !== 'api').length;
      const workersBack = await pollUntil('workers to hold their locks again', 120_000, async () => {
        const rows = await harnessQuery<{ n: number }>(
          cluster.databaseUrl,
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`,
          [WORKER_LOCK_CLASS],
        ).catch(() => [{ n: -1 }]);
        return rows[0]!.n >= workers ? (Date.now() - upAt) / 1000 : undefined;
      }, 100).catch(() => Number.POSITIVE_INFINITY);
      res.check(Number.isFinite(workersBack), `the workers did not take their locks again within 120 s`);
      recoveries.push(Math.max(...recover));
      res.check(recover.every(Number.isFinite), `an API was not ready 120 s after PostgreSQL came back: ${recover.join(', ')}`);

      const settled = await waitAllTerminal(cluster.databaseUrl, o.settleSeconds * 1000, ids);
      const stuck = settled.jobs.filter((j) => !TERMINAL.includes(j.status));
      const notDone = settled.jobs.filter((j) => j.status !== 'done');
      res.r.stuck += stuck.length;
      res.r.lost += ids.length - settled.jobs.length;
      res.check(stuck.length === 0, `outage ${n + 1}: ${stuck.length} jobs stuck: ${listSome(stuck.map((j) => `${j.id} ${j.status}`))}`);
      res.check(notDone.length === 0, `outage ${n + 1}: ${notDone.length} jobs did not end done: ${listSome(notDone.map((j) => `${j.id} ${j.status} ${j.errorCode}`))}`);
      const after = await Promise.all(apis.map((api) => requestJson(`${cluster.companyBase(api)}/content-jobs`, {
        method: 'POST', body: { kind: 'test-slow', input: { ms: 10, steps: 1 } }, timeoutMs: 30_000,
      })));
      res.check(after.every((a) => a.status === 202), `after the outage, POST answered ${after.map((a) => a.status).join(', ')}`);
      if (after.every((a) => a.status === 202)) allIds.push(...after.map((a) => a.body.jobId as string));
      rounds.push({
        outageSeconds: seconds,
        stopTookMs: downAt - stopBegan,
        runningAtOutage,
        probes: probes.length,
        slowestAnswerMs: Math.round(Math.max(...probes.map((p) => p.answer.ms))),
        apiSecondsToReady: recover.map((s) => Math.round(s * 100) / 100),
        workersSecondsToLock: Math.round(workersBack * 100) / 100,
        jobsThatLostAnAttempt: settled.jobs.filter((j) => j.attempt > 1 || j.lostAttempts > 0).length,
        secondsToSettle: settled.ms / 1000,
      });
    }
    res.r.accepted = allIds.length;
    res.r.recoverSeconds = Math.max(...recoveries);

    const final = await waitAllTerminal(cluster.databaseUrl, o.settleSeconds * 1000, allIds);
    const open = await streams.waitAllEnded(15_000);
    const tally = streams.tally();
    res.r.streamsLeftOpen = open.length;
    res.check(tally.endedAfterTerminal === tally.opened, `streams that did not end with their terminal event: ${JSON.stringify(streams.incomplete())}`);
    const events = await readEventFacts(cluster.databaseUrl, allIds);
    const probe = readLedger(ledger);
    res.r.runTwice = new Set([...events.runTwiceByEvents, ...probe.overlapping.map((t) => jobOfToken.get(t) ?? t)]).size;
    res.check(res.r.runTwice === 0, `jobs run twice: events ${listSome(events.runTwiceByEvents)}, overlapping renders ${listSome(probe.overlapping)}`);
    res.check(events.wrongTerminalEventCount.length === 0, `terminal event counts: ${JSON.stringify(events.wrongTerminalEventCount)}`);
    const badAssets = await doneJobsWithoutOnePrimary(cluster.databaseUrl, allIds);
    res.check(badAssets.length === 0, `done jobs without exactly one primary asset: ${JSON.stringify(badAssets)}`);
    const storage = await readStorageFacts(cluster.databaseUrl, cluster.dataDir);
    res.check(storage.orphans.length === 0, `files without asset rows: ${listSome(storage.orphans, 3)}`);
    const dead = [...cluster.processes.values()].filter((p) => !p.alive);
    res.check(dead.length === 0, `processes exited during the outage: ${dead.map((p) => `${p.name}\n${p.outputTail}`).join('\n')}`);
    Object.assign(res.r.details, {
      outages: rounds,
      answersDuringOutage: probeTally,
      retriedBy: events.retriedBy,
      sameAttemptRunningAgain: events.sameAttemptRunning.length,
      jobsThatLostAnAttempt: final.jobs.filter((j) => j.attempt > 1 || j.lostAttempts > 0).length,
      renders: probe.renders,
      renderedMoreThanOnce: probe.renderedMoreThanOnce.length,
      streams: tally,
    });
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    streams.closeAll();
    // Never leave the next scenario (or the cleanup) without its database.
    if (!cluster.pg.running) await cluster.pg.start().catch((err) => res.r.problems.push(`PostgreSQL did not start again: ${err}`));
  }
  return res.finish();
}
