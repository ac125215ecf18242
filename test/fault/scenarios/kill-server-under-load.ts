import { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson, sleep } from '../../harness/http-client.js';
import { describeProcs, waitUntilGone, type TrackedProc } from '../../harness/process-tracker.js';
import { harnessQuery } from '../../harness/postgres-server.js';
import { doneJobsWithoutOnePrimary, readEventFacts, readStorageFacts, waitQueueDrained, TERMINAL } from '../fault-checks.js';
import { listSome, ResultBuilder, type ScenarioResult } from '../scenario-result.js';

export interface KillServerOptions {
  /** Concurrent clients submitting jobs. */
  clients: number;
  /**
   * How long the clients submit while the server is up (the downtime, and the wait for each
   * server to finish its first job before the phase counts, come on top).
   */
  loadSeconds: number;
  /** How many times the server is SIGKILLed and restarted, evenly spread over the load. */
  kills: number;
  /** Duration of each `test-slow` job. */
  jobMs: number;
  /** Each client's pause between two submissions. */
  pauseMs: number;
  /** Every n-th submission of a client is a tiny SVG `image` job instead (0: never). */
  imageEvery: number;
  /** After the load stops: a job still queued/running when none has ended for this long is stuck (the backlog may take longer to drain). */
  settleSeconds: number;
  /** A file without an asset row is put down to a kill if it was written this long before one. */
  crashWindowMs: number;
  /** How long the killed processes' descendants get to be gone. */
  survivorBoundMs: number;
}

const svg = (i: number) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="24"><rect width="48" height="24" fill="#${(i * 2654435761 % 0xffffff).toString(16).padStart(6, '0')}"/></svg>`;

/**
 * (a) Clients submit small jobs to one `kiln serve` (API + in-process worker); midway the whole
 * server — its render processes too — is SIGKILLed, as a container runtime would, then started
 * again on the same data directory and database. Every job that got a 202 must exist and end,
 * each done job with exactly one primary asset, none stuck, and no file left without its asset row.
 */
export async function killServerUnderLoad(o: KillServerOptions): Promise<ScenarioResult> {
  const res = new ResultBuilder('a', `SIGKILL kiln serve ×${o.kills} under load (${o.clients} clients), restart`);
  const cluster = await KilnCluster.create({ label: 'kill-server', env: { KILN_WORKER_CONCURRENCY: '4' } });
  let failed = true;
  try {
    await cluster.start([{ name: 'serve', role: 'serve' }]);
    const base = cluster.companyBase('serve');

    const accepted = new Map<string, string>(); // idempotency key → job id
    const answers: Record<string, number> = {};
    let replayed = 0;
    const latencies: { at: number; ms: number }[] = [];
    let unanswered = 0;
    const startedAt = Date.now();
    let loadEnd = Number.POSITIVE_INFINITY; // set by the killer once the last restart is done

    const client = async (i: number) => {
      let seq = 0;
      while (Date.now() < loadEnd) {
        seq++;
        const key = `a-${i}-${seq}`;
        const body =
          o.imageEvery > 0 && seq % o.imageEvery === 0
            ? { kind: 'image', input: { mode: 'svg', svg: svg(i * 1000 + seq), format: 'png' }, sourceTaskId: `client-${i}` }
            : { kind: 'test-slow', input: { ms: o.jobMs, steps: 2 }, sourceTaskId: `client-${i}` };
        // A careful client: when no answer came (the server died under it), it sends the same
        // request again with the same Idempotency-Key until it gets one, or the load ends.
        for (;;) {
          const r = await requestJson(`${base}/content-jobs`, { method: 'POST', body, headers: { 'idempotency-key': key }, timeoutMs: 45_000 });
          if (r.status !== 0) latencies.push({ at: Date.now(), ms: r.ms });
          const label = r.status === 0 ? `no answer (${r.error})` : String(r.status);
          answers[label] = (answers[label] ?? 0) + 1;
          if (r.status === 202) {
            accepted.set(key, r.body.jobId);
            if (r.headers?.get('idempotent-replayed') === 'true') replayed++;
            break;
          }
          if (Date.now() >= loadEnd) {
            unanswered++;
            break;
          }
          const retryAfter = Number(r.headers?.get('retry-after') ?? 0);
          await sleep(retryAfter > 0 ? Math.min(retryAfter, 5) * 1000 : 250);
          if (r.status !== 0 && r.status !== 503 && r.status !== 429) break; // a refusal: don't insist
        }
        await sleep(o.pauseMs);
      }
    };

    // The load runs in `kills + 1` equal phases of up-time; between two, the server is SIGKILLed
    // (its render processes too) and started again, while the clients keep trying.
    const phaseMs = (o.loadSeconds * 1000) / (o.kills + 1);
    const countDone = async () =>
      (await harnessQuery<{ n: number }>(cluster.databaseUrl, `SELECT count(*)::int AS n FROM content_jobs WHERE status = 'done'`))[0]!.n;
    const killer = (async () => {
      const kills: { running: number; killedAt: number; readyAt: number; family: TrackedProc[]; left: TrackedProc[] }[] = [];
      loadEnd = Number.POSITIVE_INFINITY;
      for (let k = 0; k < o.kills; k++) {
        // Kill a server that is really working: once it has finished a job since it started
        // (its render processes take a while to load on a busy machine), plus the phase.
        const doneBefore = await countDone();
        await pollUntil('the server to finish a job', 120_000, async () => ((await countDone()) > doneBefore ? true : undefined), 250);
        await sleep(phaseMs);
        const [{ n: running }] = await harnessQuery<{ n: number }>(cluster.databaseUrl, `SELECT count(*)::int AS n FROM content_jobs WHERE status = 'running'`);
        const killedAt = Date.now();
        const family = await cluster.get('serve').kill({ tree: true });
        const restarted = await cluster.restart('serve');
        await restarted.waitReady();
        const readyAt = Date.now();
        const { left } = await waitUntilGone(family, o.survivorBoundMs);
        kills.push({ running, killedAt, readyAt, family, left: family.filter((f) => left.includes(f)) });
      }
      loadEnd = Date.now() + phaseMs;
      return kills;
    })();

    const [kills] = await Promise.all([killer, Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)))]);
    const loadStoppedAt = Date.now();
    const firstKillAt = kills[0]!.killedAt;
    res.r.accepted = accepted.size;
    res.r.recoverSeconds = Math.max(...kills.map((k) => (k.readyAt - k.killedAt) / 1000));
    const survivors = kills.flatMap((k) => k.left);
    res.r.survivors = survivors.length;
    res.check(survivors.length === 0, `processes of the killed server still ran ${o.survivorBoundMs} ms later: ${describeProcs(survivors)}`);
    res.check(kills.every((k) => k.running > 0), `no job was running at some kill (it proved nothing): ${kills.map((k) => k.running).join(', ')}`);

    const ids = [...accepted.values()];
    const settled = await waitQueueDrained(cluster.databaseUrl, o.settleSeconds * 1000, 5 * 60_000);
    const all = settled.jobs;
    const found = new Set(all.map((j) => j.id));
    const lost = ids.filter((id) => !found.has(id));
    const stuck = all.filter((j) => !TERMINAL.includes(j.status));
    const failedJobs = all.filter((j) => j.status !== 'done');
    const keys = new Set(accepted.keys());
    const committedUnanswered = all.filter((j) => j.idempotencyKey && !keys.has(j.idempotencyKey));
    res.r.lost = lost.length;
    res.r.stuck = stuck.length;
    res.check(lost.length === 0, `${lost.length} accepted jobs are missing from the database: ${listSome(lost)}`);
    res.check(stuck.length === 0, `${stuck.length} jobs still queued/running ${settled.stalled ? `when none had ended for ${o.settleSeconds} s` : 'after 5 minutes'}: ${listSome(stuck.map((j) => `${j.id} ${j.status}`))}`);
    res.check(failedJobs.length === 0, `${failedJobs.length} jobs did not end done: ${listSome(failedJobs.map((j) => `${j.id} ${j.status} ${j.errorCode}`))}`);

    const events = await readEventFacts(cluster.databaseUrl);
    res.r.runTwice = events.runTwiceByEvents.length;
    res.check(events.runTwiceByEvents.length === 0, `jobs with two running events for one attempt: ${listSome(events.runTwiceByEvents)}`);
    res.check(events.wrongTerminalEventCount.length === 0, `terminal jobs without exactly one terminal event: ${listSome(events.wrongTerminalEventCount.map((e) => `${e.jobId}×${e.n}`))}`);
    const badAssets = await doneJobsWithoutOnePrimary(cluster.databaseUrl);
    res.check(badAssets.length === 0, `done jobs without exactly one primary asset: ${listSome(badAssets.map((b) => `${b.jobId}×${b.primaries}`))}`);
    const storage = await readStorageFacts(cluster.databaseUrl, cluster.dataDir);
    // A SIGKILL between a file's rename into place and the commit of its asset row leaves the file
    // behind by design: the orphan sweeper removes it once KILN_ORPHAN_GRACE_SECONDS have passed.
    // Such a file was finished in the last moments before a kill; any other orphan is a leak.
    const explained = (key: string) => kills.some((k) => {
      const t = storage.orphanMtimes.get(key)!;
      return t <= k.killedAt + 1000 && t >= k.killedAt - o.crashWindowMs;
    });
    const leaked = storage.orphans.filter((key) => !explained(key));
    res.check(leaked.length === 0, `${leaked.length} files under storage/ have no asset row and were not written just before a kill: ${listSome(leaked, 3)}`);
    res.check(storage.missingFiles.length === 0, `${storage.missingFiles.length} asset rows have no file: ${listSome(storage.missingFiles, 3)}`);

    const [timing] = await harnessQuery<{ last: number; reclaimed: number | null }>(
      cluster.databaseUrl,
      `SELECT extract(epoch FROM max(finished_at))::float8 * 1000 AS last,
              (SELECT extract(epoch FROM min(e.created_at))::float8 * 1000 FROM content_job_events e
               WHERE e.type = 'content_job.retrying') AS reclaimed
       FROM content_jobs`,
    );
    const statusCounts: Record<string, number> = {};
    for (const j of all) statusCounts[j.status] = (statusCounts[j.status] ?? 0) + 1;
    Object.assign(res.r.details, {
      jobsInDatabase: all.length,
      statuses: statusCounts,
      answers,
      idempotentReplays: replayed,
      committedWithoutAnswer: committedUnanswered.length,
      gaveUpUnanswered: unanswered,
      runningAtKill: kills.map((k) => k.running),
      killedProcesses: kills.map((k) => k.family.length + 1),
      secondsFromKillToReady: kills.map((k) => (k.readyAt - k.killedAt) / 1000),
      retriedBy: events.retriedBy,
      sameAttemptRunningAgain: events.sameAttemptRunning.length,
      jobsWithMoreThanOneAttempt: all.filter((j) => j.attempt > 1).length,
      loadSeconds: (loadStoppedAt - startedAt) / 1000,
      secondsToSettle: settled.ms / 1000,
      slowestAnswerMs: Math.round(Math.max(0, ...latencies.map((l) => l.ms))),
      slowestAnswerAfterRestartMs: Math.round(Math.max(0, ...latencies.filter((l) => l.at > firstKillAt).map((l) => l.ms))),
      lastJobEndedSecondsAfterLastRestart: (timing!.last - kills[kills.length - 1]!.readyAt) / 1000,
      firstRequeueSecondsAfterFirstRestart: timing!.reclaimed === null ? null : (timing!.reclaimed - kills[0]!.readyAt) / 1000,
      storageFiles: storage.files,
      orphansFromKills: storage.orphans.length - leaked.length,
      partialUploadsLeft: storage.partials,
    });
    failed = false;
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    const { stragglers, postgresLeft } = await cluster.cleanup({ keep: failed || res.r.problems.length > 0 });
    res.check(stragglers.length === 0, `processes left at cleanup: ${describeProcs(stragglers)}`);
    res.check(!postgresLeft, 'PostgreSQL still ran after cleanup');
    if (failed || res.r.problems.length > 0) res.detail('runDir', cluster.runDir);
  }
  return res.finish();
}
