import path from 'node:path';
import { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson, sleep } from '../../harness/http-client.js';
import { connectSse } from '../../../server/test/support/sse-client.js';
import { describeProcs, waitUntilGone } from '../../harness/process-tracker.js';
import { JobStreams, TERMINAL_EVENTS } from '../../harness/job-streams.js';
import { readEventFacts, readJobs, readLedger, waitAllTerminal } from '../fault-checks.js';
import { ResultBuilder, type ScenarioResult } from '../scenario-result.js';
import { harnessQuery } from '../../harness/postgres-server.js';

export interface DrainOptions {
  /** A job longer than the shutdown grace (handed back) and one shorter (finished in it). */
  longJobMs: number;
  shortJobMs: number;
  /** KILN_SHUTDOWN_GRACE_MS of the server. */
  graceMs: number;
  settleSeconds: number;
}

/**
 * (e) An orderly stop: `kiln serve` gets SIGTERM while two jobs run. While it drains, /api/ready
 * must answer 503; the job that fits in the grace period ends done, the other goes back to the
 * queue with its attempt given back; the process exits with its render processes; restarted, the
 * server finishes the job, and a client resuming its stream with Last-Event-ID gets the rest —
 * the terminal event included — with no event twice.
 */
export async function drainOnSigterm(o: DrainOptions): Promise<ScenarioResult> {
  const res = new ResultBuilder('e', `SIGTERM kiln serve with jobs running (grace ${o.graceMs} ms), restart, resume streams`);
  const cluster = await KilnCluster.create({ label: 'drain', env: { KILN_WORKER_CONCURRENCY: '2', KILN_SHUTDOWN_GRACE_MS: String(o.graceMs) } });
  const streams = new JobStreams();
  const ledger = path.join(cluster.runDir, 'ledger-e.jsonl');
  let failed = true;
  try {
    await cluster.start([{ name: 'serve', role: 'serve' }]);
    const base = cluster.companyBase('serve');
    const ids: string[] = [];
    // One job at a time, each until it renders — not merely claimed and waiting for a render
    // process to finish loading, which is another case (see render-pool-abort.test.ts) — so the
    // SIGTERM finds the short one able to finish within the grace period and the long one not.
    for (const [token, ms] of [['e-long', o.longJobMs], ['e-short', o.shortJobMs]] as const) {
      const r = await requestJson(`${base}/content-jobs`, { method: 'POST', body: { kind: 'fault-probe', input: { token, ledger, ms, steps: 20 } }, timeoutMs: 30_000 });
      if (!res.check(r.status === 202, `${token} not accepted: ${r.status}`)) return res.finish();
      const id: string = r.body.jobId;
      ids.push(id);
      await streams.open(base, id, { live: true });
      await pollUntil(`${token} to render`, 120_000, async () => {
        const rows = await harnessQuery<{ n: number }>(
          cluster.databaseUrl,
          `SELECT count(*)::int AS n FROM content_jobs WHERE id = $1 AND status = 'running' AND progress > 0`,
          [id],
        );
        return rows[0]!.n === 1 ? true : undefined;
      }, 50);
    }
    res.r.accepted = ids.length;
    const [longId, shortId] = ids as [string, string];

    const serve = cluster.get('serve');
    const family = serve.descendants();
    const termAt = Date.now();
    const exit = serve.terminate(o.graceMs + 30_000);
    const readyAnswers: Record<string, number> = {};
    while (serve.alive) {
      const r = await requestJson(`${serve.url}/api/ready`, { timeoutMs: 2000 });
      const label = r.status === 0 ? `none (${r.error})` : `${r.status}${r.body?.checks?.draining === false ? ' draining' : ''}`;
      readyAnswers[label] = (readyAnswers[label] ?? 0) + 1;
      await sleep(100);
    }
    const exited = await exit;
    const exitMs = Date.now() - termAt;
    res.check(exited.code === 0 && !exited.forced, `kiln serve did not exit cleanly on SIGTERM: ${JSON.stringify(exited)}\n${serve.outputTail}`);
    res.check((readyAnswers['503 draining'] ?? 0) > 0, `/api/ready never answered 503 (draining) during the shutdown: ${JSON.stringify(readyAnswers)}`);
    res.check(!('200' in readyAnswers), `/api/ready answered 200 after SIGTERM: ${JSON.stringify(readyAnswers)}`);
    const { left } = await waitUntilGone(family, 10_000);
    const familyGoneAt = Date.now();
    res.r.survivors = left.length;
    res.check(left.length === 0, `processes of the stopped server still ran 10 s after it exited: ${describeProcs(family.filter((f) => left.includes(f)))}`);

    const [afterStop] = await readJobs(cluster.databaseUrl, [longId]);
    res.check(afterStop?.status === 'queued', `the long job is ${afterStop?.status} after the shutdown (expected queued, handed back)`);

    await cluster.restart('serve');
    await cluster.get('serve').waitReady();
    // Resume each stream where it broke off, as a client does after a disconnect.
    const resumed = await Promise.all(
      streams.all.map(async (s) => {
        const last = [...s.messages].reverse().find((m) => m.id)?.id;
        const terminalAlready = s.terminalEvents().length > 0;
        if (terminalAlready) return { jobId: s.jobId, terminalAlready, ok: s.endedAfterTerminal, events: [] as string[], repeats: 0 };
        const conn = await connectSse(`${base}/content-jobs/${s.jobId}/events`, last ? { 'last-event-id': last } : {});
        await Promise.race([conn.ended, sleep(o.settleSeconds * 1000)]);
        conn.close();
        const before = new Set(s.messages.map((m) => m.id).filter(Boolean));
        const repeats = conn.messages.filter((m) => m.id && before.has(m.id)).length;
        const lastMsg = conn.messages[conn.messages.length - 1];
        return {
          jobId: s.jobId,
          terminalAlready,
          ok: !!lastMsg && TERMINAL_EVENTS.includes(lastMsg.event),
          events: conn.messages.filter((m) => m.event !== 'content_job.progress').map((m) => m.event),
          repeats,
        };
      }),
    );
    for (const r of resumed) {
      res.check(r.ok, `the stream of ${r.jobId} did not end with its terminal event${r.terminalAlready ? '' : ' after resuming'}: ${r.events.join(', ')}`);
      res.check(r.repeats === 0, `resuming the stream of ${r.jobId} repeated ${r.repeats} events`);
    }
    res.r.streamsLeftOpen = (await streams.waitAllEnded(1000)).length;

    const settled = await waitAllTerminal(cluster.databaseUrl, o.settleSeconds * 1000, ids);
    const byId = new Map(settled.jobs.map((j) => [j.id, j]));
    const long = byId.get(longId);
    const short = byId.get(shortId);
    res.r.stuck = settled.jobs.filter((j) => !['done', 'failed', 'canceled'].includes(j.status)).length;
    res.check(short?.status === 'done' && short.attempt === 1, `the short job: ${short?.status}, attempt ${short?.attempt} (expected done in the grace period, attempt 1)`);
    res.check(long?.status === 'done' && long.attempt === 1, `the long job: ${long?.status}, attempt ${long?.attempt} (expected done after the restart, its attempt given back: 1)`);
    const events = await readEventFacts(cluster.databaseUrl, ids);
    res.r.runTwice = events.runTwiceByEvents.length;
    res.check(events.runTwiceByEvents.length === 0, `claimed while running: ${events.runTwiceByEvents.join(', ')}`);
    // A render with no end line died with its process, which was gone before the restart.
    const probe = readLedger(ledger, (pid, at) => family.some((f) => f.pid === pid) && familyGoneAt <= at);
    res.check(probe.overlapping.length === 0 && probe.completedTwice.length === 0, `renders overlapped or completed twice: ${JSON.stringify(probe)}`);
    Object.assign(res.r.details, {
      readyDuringShutdown: readyAnswers,
      exitMsAfterSigterm: exitMs,
      handedBackBy: events.retriedBy,
      longJob: { status: long?.status, attempt: long?.attempt },
      shortJob: { status: short?.status, attempt: short?.attempt },
      renders: probe.renders,
      resumedStreams: resumed.map((r) => ({ terminalBeforeStop: r.terminalAlready, events: r.events.length, repeats: r.repeats })),
    });
    failed = false;
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    streams.closeAll();
    const { stragglers, postgresLeft } = await cluster.cleanup({ keep: failed || res.r.problems.length > 0 });
    res.check(stragglers.length === 0, `processes left at cleanup: ${describeProcs(stragglers)}`);
    res.check(!postgresLeft, 'PostgreSQL still ran after cleanup');
    if (failed || res.r.problems.length > 0) res.detail('runDir', cluster.runDir);
  }
  return res.finish();
}
