import type { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson } from '../../harness/http-client.js';
import { describeProcs, waitUntilGone, type TrackedProc } from '../../harness/process-tracker.js';
import { harnessQuery } from '../../harness/postgres-server.js';
import { JobStreams } from '../../harness/job-streams.js';
import { doneJobsWithoutOnePrimary, readEventFacts, readStorageFacts, waitAllTerminal } from '../fault-checks.js';
import { ResultBuilder, type ScenarioResult } from '../scenario-result.js';
import { videoScenes } from '../../harness/video-scenes.js';

export interface KillWorkerOptions {
  /** Length of the video (3 s scenes of 720p, `draft` quality): long enough to be mid-encode when killed. */
  videoSeconds: number;
  /** The bound within which nothing of the dead worker may still run. */
  survivorBoundMs: number;
  /** How long the job may take to end after the kill. */
  settleSeconds: number;
}

/**
 * (b) On two APIs and two workers: a video job is submitted through API 1 and followed from API 2;
 * while ffmpeg encodes it, the worker running it is SIGKILLed (that worker alone: its render
 * process, the lifeline `sh` and ffmpeg must die by themselves). The job must end `done` exactly
 * once on the other worker, and API 2's stream must end with that terminal event.
 */
export async function killWorkerMidEncode(cluster: KilnCluster, o: KillWorkerOptions): Promise<ScenarioResult> {
  const res = new ResultBuilder('b', `SIGKILL the worker running a video mid-encode (${o.videoSeconds} s of 720p)`);
  const streams = new JobStreams();
  try {
    const scenes = videoScenes(o.videoSeconds);
    const submit = await requestJson(`${cluster.companyBase('api-1')}/content-jobs`, {
      method: 'POST',
      body: { kind: 'video', input: { resolution: '720p', fps: 30, format: 'mp4', quality: 'draft', scenes }, sourceTaskId: 'fault-b' },
      timeoutMs: 60_000,
    });
    if (!res.check(submit.status === 202, `video job not accepted: ${submit.status} ${JSON.stringify(submit.body)}`)) return res.finish();
    res.r.accepted = 1;
    const jobId: string = submit.body.jobId;
    const stream = await streams.open(cluster.companyBase('api-2'), jobId, { live: true });

    // Mid-encode: the job's stage says so and its worker has an ffmpeg running.
    const target = await pollUntil('the video job to be encoding under ffmpeg', 120_000, async () => {
      const [row] = await harnessQuery<{ status: string; stage: string | null; lockedBy: string | null }>(
        cluster.databaseUrl,
        `SELECT status, stage, locked_by AS "lockedBy" FROM content_jobs WHERE id = $1`,
        [jobId],
      );
      if (row?.status !== 'running' || row.stage !== 'encode' || !row.lockedBy) return undefined;
      const worker = cluster.byWorkerId(row.lockedBy);
      if (!worker) return undefined;
      const ffmpeg = worker.descendants().filter((p) => p.kind === 'ffmpeg');
      return ffmpeg.length > 0 ? worker : undefined;
    }, 100);

    const killedAt = Date.now();
    const family: TrackedProc[] = await target.kill();
    const kinds = family.map((p) => p.kind);
    res.check(kinds.includes('ffmpeg') && kinds.includes('lifeline-sh') && kinds.includes('render-process'), `the killed worker's family lacks render process/sh/ffmpeg: ${describeProcs(family)}`);
    const within = await waitUntilGone(family, o.survivorBoundMs);
    res.r.survivors = within.left.length;
    let goneMs: number | null = within.left.length === 0 ? within.ms : null;
    if (within.left.length > 0) {
      const late = await waitUntilGone(within.left, 30_000);
      goneMs = late.left.length === 0 ? o.survivorBoundMs + late.ms : null;
    }
    res.check(
      within.left.length === 0,
      `${within.left.length} processes of the SIGKILLed worker still ran ${o.survivorBoundMs} ms later: ${describeProcs(family.filter((f) => within.left.some((l) => l.pid === f.pid)))}`,
    );
    // Back to two workers for the scenarios that follow (it may well pick the job up itself).
    const replacement = await cluster.restart(target.name);

    const settled = await waitAllTerminal(cluster.databaseUrl, o.settleSeconds * 1000, [jobId]);
    await replacement.waitReady();
    const [job] = settled.jobs;
    res.check(job?.status === 'done', `the video job ended ${job?.status} (${job?.errorCode}), not done`);
    res.r.stuck = job && ['queued', 'running'].includes(job.status) ? 1 : 0;
    res.check(job?.attempt === 2 && job?.lostAttempts === 1, `attempt ${job?.attempt} / lost ${job?.lostAttempts}; expected attempt 2 after one lost worker`);
    const doneEvents = await harnessQuery<{ n: number }>(
      cluster.databaseUrl,
      `SELECT count(*)::int AS n FROM content_job_events WHERE job_id = $1 AND type = 'content_job.done'`,
      [jobId],
    );
    res.check(doneEvents[0]!.n === 1, `${doneEvents[0]!.n} content_job.done events (expected exactly one)`);
    const events = await readEventFacts(cluster.databaseUrl, [jobId]);
    res.r.runTwice = events.runTwiceByEvents.length;
    res.check(events.runTwiceByEvents.length === 0, `two running events for one attempt`);
    res.check(events.retriedBy.worker_lost === 1, `expected one worker_lost retry, got ${JSON.stringify(events.retriedBy)}`);
    const badAssets = await doneJobsWithoutOnePrimary(cluster.databaseUrl, [jobId]);
    res.check(badAssets.length === 0, `done without exactly one primary asset: ${JSON.stringify(badAssets)}`);
    const [requeue] = await harnessQuery<{ at: number }>(
      cluster.databaseUrl,
      `SELECT extract(epoch FROM created_at)::float8 * 1000 AS at FROM content_job_events WHERE job_id = $1 AND type = 'content_job.retrying'`,
      [jobId],
    );
    const [finisher] = await harnessQuery<{ lockedBy: string | null }>(cluster.databaseUrl, `SELECT locked_by AS "lockedBy" FROM content_jobs WHERE id = $1`, [jobId]);
    const finishedBy = [...cluster.processes.values()].find((p) => p.workerId === finisher?.lockedBy);

    const open = await streams.waitAllEnded(15_000);
    res.r.streamsLeftOpen = open.length;
    const c = stream.counts();
    res.check(stream.endedAfterTerminal, `API 2's stream did not end right after a terminal event (ended ${stream.ended}, events: ${JSON.stringify(c)})`);
    res.check((c['content_job.done'] ?? 0) === 1, `API 2's stream carried ${c['content_job.done'] ?? 0} done events`);
    res.check(stream.repeatedIds().length === 0, `API 2's stream repeated ids ${stream.repeatedIds().join(', ')}`);

    const storage = await readStorageFacts(cluster.databaseUrl, cluster.dataDir);
    res.check(storage.orphans.length === 0, `files without asset rows: ${storage.orphans.join(', ')}`);
    Object.assign(res.r.details, {
      jobStatus: job?.status,
      attempt: job?.attempt,
      lostAttempts: job?.lostAttempts,
      killedWorker: `${target.name} (pid ${target.pid})`,
      finishedBy: finishedBy ? `${finishedBy.name} (pid ${finishedBy.pid})` : finisher?.lockedBy,
      killedFamily: kinds.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {}),
      deadWorkersProcessesGoneMs: goneMs === null ? 'never (within 30 s more)' : Math.round(goneMs),
      requeuedSecondsAfterKill: requeue ? (requeue.at - killedAt) / 1000 : null,
      doneSecondsAfterKill: settled.ms / 1000,
      streamFromApi2: c,
      sameAttemptRunningAgain: events.sameAttemptRunning.length,
      storagePartials: storage.partials,
    });
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    streams.closeAll();
  }
  return res.finish();
}
