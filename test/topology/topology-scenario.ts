import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createStorageService } from '../../server/src/services/storage/storage-service.js';
import { createS3Provider } from '../../server/src/services/storage/s3-provider.js';
import { sweepOrphans } from '../../server/src/worker/orphan-sweeper.js';
import { connectSse, type SseConnection } from '../../server/test/support/sse-client.js';
import { pollUntil, requestJson } from '../harness/http-client.js';
import { JobStreams, type JobStream } from '../harness/job-streams.js';
import { connectHarnessClient, harnessQuery } from '../harness/postgres-server.js';
import { describeProcs, waitUntilGone } from '../harness/process-tracker.js';
import { S3Topology, type BucketFacts } from '../harness/s3-topology.js';
import type { KilnProcess } from '../harness/kiln-process.js';
import { readEventFacts, waitAllTerminal } from '../fault/fault-checks.js';
import { videoScenes } from '../harness/video-scenes.js';

/**
 * Many processes, one database, one bucket: 2 × `kiln serve --no-worker` and 2 × `kiln worker`
 * on one PostgreSQL and one S3 bucket, each with a data directory of its own. Jobs are created
 * through API 1, streamed from API 2 (job streams, and company streams on both APIs opened before
 * any job existed), downloaded from both APIs; workers are SIGKILLed mid-encode and mid-upload.
 * `npm test` runs the short profile (test/topology/topology.test.ts), `npm run topology` the long
 * one; both run this code and print what it counted.
 */
export interface TopologyProfile {
  name: 'short' | 'long';
  /** Image jobs (an SVG rendered to PNG + WebP preview), submitted through API 1 at once. */
  images: number;
  /** Document jobs (Markdown → PDF through Chromium). */
  documents: number;
  /** Rounds of: a video job, its worker SIGKILLed while ffmpeg encodes it. */
  videoKills: number;
  /** Length of those videos (3 s scenes of 720p, draft quality). */
  videoSeconds: number;
  /** Rounds of: a `test-bytes` job, its worker SIGKILLed while the output is mid multipart upload. */
  uploadKills: number;
  uploadMiB: number;
  /** How long any phase may take to end. */
  settleSeconds: number;
}

export const SHORT: TopologyProfile = { name: 'short', images: 3, documents: 0, videoKills: 1, videoSeconds: 9, uploadKills: 1, uploadMiB: 64, settleSeconds: 60 };
export const LONG: TopologyProfile = { name: 'long', images: 24, documents: 2, videoKills: 2, videoSeconds: 15, uploadKills: 2, uploadMiB: 160, settleSeconds: 120 };

export interface TopologyResult {
  profile: string;
  /** Every broken promise, with its evidence; the run passes when it is empty. */
  problems: string[];
  counts: {
    jobs: number;
    done: number;
    eventsInDb: number;
    /** Events received on job streams from API 2 (snapshots not counted). */
    jobStreamEvents: number;
    /** Events received on the company streams of API 1 and API 2. */
    companyStreamEvents: Record<string, number>;
    jobStreamsEndedAfterTerminal: number;
    repeatedIds: number;
    downloads: number;
    bytesDownloaded: number;
    hashMismatches: number;
    workersKilled: number;
    bucketObjects: number;
  };
  details: Record<string, unknown>;
  runDir?: string;
  durationMs: number;
}

const MIB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const SVG = (i: number) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${200 + i}" height="120"><rect width="100%" height="100%" fill="#${((i + 1) * 0x2a5f13 % 0xffffff).toString(16).padStart(6, '0')}"/><text x="20" y="70" font-size="32" fill="#fff">topology ${i}</text></svg>`;

interface DbEvent {
  id: string;
  jobId: string;
  type: string;
  createdAt: number;
}

/** A company's event stream (`GET …/events?since=0`), opened before any job: all it gets is this run's events. */
interface CompanyStream {
  api: string;
  conn: SseConnection;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runTopology(profile: TopologyProfile, log: (line: string) => void = () => undefined): Promise<TopologyResult> {
  const started = Date.now();
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
    return ok;
  };
  const details: Record<string, unknown> = {};
  const counts: TopologyResult['counts'] = {
    jobs: 0, done: 0, eventsInDb: 0, jobStreamEvents: 0, companyStreamEvents: {}, jobStreamsEndedAfterTerminal: 0, repeatedIds: 0,
    downloads: 0, bytesDownloaded: 0, hashMismatches: 0, workersKilled: 0, bucketObjects: 0,
  };
  const jobIds: string[] = [];
  const streams = new JobStreams();
  const streamOf = new Map<string, JobStream>();
  const companyStreams: CompanyStream[] = [];
  const kills: Record<string, unknown>[] = [];
  details.kills = kills;
  const scratch = mkdtempSync(path.join(tmpdir(), 'kiln-topology-'));
  let topo: S3Topology | null = null;

  try {
    log(`starting 2 × kiln serve --no-worker + 2 × kiln worker on one PostgreSQL and one S3 bucket`);
    const t0 = Date.now();
    topo = await S3Topology.start({ label: 'topology', apis: 2, workers: 2 });
    const t = topo;
    const cluster = t.cluster;
    details.startSeconds = (Date.now() - t0) / 1000;
    details.dataDirs = Object.fromEntries([...t.apiNames, ...t.workerNames].map((n) => [n, cluster.dataDirOf(n)]));
    const api1 = cluster.companyBase('api-1');
    const api2 = cluster.companyBase('api-2');

    for (const api of t.apiNames) {
      const conn = await connectSse(`${cluster.companyBase(api)}/events?since=0`);
      check(conn.status === 200, `${api}'s company stream answered ${conn.status}`);
      await conn.waitFor((m) => m.event === 'snapshot', 15_000);
      companyStreams.push({ api, conn });
    }

    const submit = async (body: Record<string, unknown>): Promise<string | null> => {
      const r = await requestJson(`${api1}/content-jobs`, { method: 'POST', body, timeoutMs: 60_000 });
      if (!check(r.status === 202, `POST through api-1 answered ${r.status} ${JSON.stringify(r.body)}`)) return null;
      const id: string = r.body.jobId;
      jobIds.push(id);
      counts.jobs++;
      // Followed from the other API: its replay, then live events relayed by PostgreSQL NOTIFY.
      streamOf.set(id, await streams.open(api2, id));
      return id;
    };

    // --- Phase 1: real renders through API 1, streamed from API 2, downloaded from both.
    log(`phase 1: ${profile.images} image job(s)${profile.documents ? ` and ${profile.documents} document job(s)` : ''} through api-1`);
    const renderIds: string[] = [];
    for (let i = 0; i < profile.images; i++) {
      const id = await submit({ kind: 'image', input: { mode: 'svg', svg: SVG(i), format: 'png' }, sourceTaskId: 'topology' });
      if (id) renderIds.push(id);
    }
    for (let i = 0; i < profile.documents; i++) {
      const markdown = `# Topology report ${i + 1}\n\nRendered by one of two workers, served by either API.\n\n\\pagebreak\n\n## Page two\n\n${'Lorem ipsum dolor sit amet. '.repeat(40)}`;
      const id = await submit({ kind: 'document', input: { markdown, format: 'pdf', title: `Topology ${i + 1}` }, sourceTaskId: 'topology' });
      if (id) renderIds.push(id);
    }
    // While they run: the connections each role holds.
    details.connectionsWhileRendering = await t.connectionsByRole();
    const phase1 = await waitAllTerminal(cluster.databaseUrl, profile.settleSeconds * 1000, renderIds);
    for (const j of phase1.jobs) check(j.status === 'done', `${j.kind} job ${j.id} ended ${j.status} (${j.errorCode})`);
    details.phase1Seconds = phase1.ms / 1000;
    const conns = await t.connectionsByRole();
    details.connectionsAfterPhase1 = conns;
    check(conns['kiln-events'] === t.apiNames.length, `expected one LISTEN connection (kiln-events) per API process, got ${JSON.stringify(conns)}`);
    const workerBound = t.workerNames.length * (2 * 2 + 4 + 1);
    check((conns['kiln-worker'] ?? 0) <= workerBound, `workers hold ${conns['kiln-worker']} connections, more than ${workerBound} (concurrency × 2 + 4 + 1 each)`);

    for (const id of renderIds) await verifyDownloads(id);

    // --- Phase 2: a worker SIGKILLed while ffmpeg encodes a video.
    for (let round = 0; round < profile.videoKills; round++) {
      log(`phase 2.${round + 1}: a ${profile.videoSeconds} s video, its worker SIGKILLed mid-encode`);
      const scenes = videoScenes(profile.videoSeconds, round);
      const id = await submit({ kind: 'video', input: { resolution: '720p', fps: 30, format: 'mp4', quality: 'draft', scenes }, sourceTaskId: 'topology-kill' });
      if (!id) continue;
      await streamOf.get(id)!.waitLive();
      const victim = await pollUntil('the video job to be encoding under ffmpeg', profile.settleSeconds * 1000, async () => {
        const w = await runningOn(id);
        return w && w.descendants().some((p) => p.kind === 'ffmpeg') ? w : undefined;
      }, 100);
      await killAndRecover(id, victim, `video round ${round + 1}`);
    }

    // --- Phase 3: a worker SIGKILLed while its output is a multipart upload in progress.
    const leftUploads: string[] = [];
    for (let round = 0; round < profile.uploadKills; round++) {
      log(`phase 3.${round + 1}: a ${profile.uploadMiB} MiB output, its worker SIGKILLed mid-upload`);
      const before = new Set((await t.s3.inProgressUploads()).map((u) => u.uploadId));
      const id = await submit({ kind: 'test-bytes', input: { bytes: profile.uploadMiB * MIB }, sourceTaskId: 'topology-kill' });
      if (!id) continue;
      const caught = await pollUntil('the output to be a multipart upload in progress', profile.settleSeconds * 1000, async () => {
        const uploads = (await t.s3.inProgressUploads()).filter((u) => !before.has(u.uploadId) && u.key.endsWith('bytes.bin'));
        const w = uploads.length > 0 ? await runningOn(id) : undefined;
        return w ? { w, uploads } : undefined;
      }, 50);
      leftUploads.push(...caught.uploads.map((u) => u.uploadId));
      await killAndRecover(id, caught.w, `upload round ${round + 1}`);
    }

    // --- Every stream: every event of the database once, job streams ended after their terminal event.
    const settled = await waitAllTerminal(cluster.databaseUrl, profile.settleSeconds * 1000, jobIds);
    counts.done = settled.jobs.filter((j) => j.status === 'done').length;
    check(counts.done === jobIds.length, `${jobIds.length - counts.done} job(s) did not end done: ${JSON.stringify(settled.jobs.filter((j) => j.status !== 'done'))}`);
    const db = await dbEvents(cluster.databaseUrl, jobIds);
    counts.eventsInDb = db.length;
    const open = await streams.waitAllEnded(20_000);
    check(open.length === 0, `${open.length} job stream(s) from api-2 still open after their jobs ended: ${JSON.stringify(streams.incomplete())}`);
    for (const id of jobIds) {
      const s = streamOf.get(id)!;
      const want = db.filter((e) => e.jobId === id).map((e) => e.id);
      const got = s.messages.filter((m) => m.id).map((m) => m.id!);
      counts.jobStreamEvents += got.length;
      if (s.endedAfterTerminal) counts.jobStreamsEndedAfterTerminal++;
      counts.repeatedIds += s.repeatedIds().length;
      check(s.endedAfterTerminal, `api-2's stream of ${id} did not end right after its terminal event (${JSON.stringify(s.counts())})`);
      check(s.terminalEvents().length === 1, `api-2's stream of ${id} carried ${s.terminalEvents().length} terminal events`);
      check(sameList(got, want), `api-2's stream of ${id} carried ${got.join(',')}; the database has ${want.join(',')}`);
    }
    const wantAll = db.map((e) => e.id);
    const latencies: number[] = [];
    const createdAt = new Map(db.map((e) => [e.id, e.createdAt]));
    for (const cs of companyStreams) {
      const ids = () => cs.conn.messages.filter((m) => m.id).map((m) => m.id!);
      await pollUntil(`${cs.api}'s company stream to catch up`, 20_000, () => (ids().length >= wantAll.length ? true : undefined), 100).catch(() => undefined);
      const got = ids();
      counts.companyStreamEvents[cs.api] = got.length;
      const repeats = got.length - new Set(got).size;
      counts.repeatedIds += repeats;
      check(repeats === 0, `${cs.api}'s company stream repeated ${repeats} id(s)`);
      check(sameSet(got, wantAll), `${cs.api}'s company stream: ${got.length} events, the database ${wantAll.length}; missing ${wantAll.filter((x) => !got.includes(x)).slice(0, 10).join(',')}`);
      if (cs.api === 'api-2') {
        for (const m of cs.conn.messages) if (m.id && m.receivedAt && createdAt.has(m.id)) latencies.push(m.receivedAt - createdAt.get(m.id)!);
      }
    }
    latencies.sort((a, b) => a - b);
    details.api2CompanyStreamDelayMs = { note: 'event row created_at (transaction start) → parsed on api-2', p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null };
    const facts = await readEventFacts(cluster.databaseUrl, jobIds);
    check(facts.runTwiceByEvents.length === 0, `jobs claimed while running: ${facts.runTwiceByEvents.join(', ')}`);
    check(facts.wrongTerminalEventCount.length === 0, `jobs without exactly one terminal event: ${JSON.stringify(facts.wrongTerminalEventCount)}`);

    // --- The bucket: one object per asset row, nothing on local disk. The uploads the SIGKILLed
    // workers left are still in progress (the sweeper leaves them for KILN_ORPHAN_GRACE_SECONDS);
    // Kiln's own sweeper, run now with no grace, must abort exactly those and delete nothing.
    const beforeSweep = await t.bucketFacts();
    details.inProgressUploadsBeforeSweep = beforeSweep.inProgressUploads.length;
    check(
      sameSet(beforeSweep.inProgressUploads.map((u) => u.uploadId), leftUploads),
      `in-progress uploads ${JSON.stringify(beforeSweep.inProgressUploads)}; expected only the killed workers' ${leftUploads.join(', ') || '(none)'}`,
    );
    const swept = await runSweeper(t);
    details.sweeper = swept;
    check(swept.partials === leftUploads.length && swept.orphans === 0, `the sweeper removed ${JSON.stringify(swept)}; expected ${leftUploads.length} partial upload(s) and no object`);
    const bucket = await t.bucketFacts();
    counts.bucketObjects = bucket.objects.length;
    checkBucket(bucket);
    details.bucket = { objects: bucket.objects.length, bytes: bucket.objects.reduce((n, o) => n + o.size, 0), inProgressUploads: bucket.inProgressUploads.length };
  } catch (err) {
    problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    streams.closeAll();
    for (const cs of companyStreams) cs.conn.close();
    rmSync(scratch, { recursive: true, force: true });
    if (topo) {
      const runDir = topo.cluster.runDir;
      const { stragglers, postgresLeft } = await topo.cleanup({ keep: problems.length > 0 });
      check(stragglers.length === 0, `processes left at cleanup: ${describeProcs(stragglers)}`);
      check(!postgresLeft, 'PostgreSQL still ran after cleanup');
      if (problems.length > 0) details.runDir = runDir;
    }
  }
  return { profile: profile.name, problems, counts, details, durationMs: Date.now() - started };

  // ----------------------------------------------------------------------------------------

  /** The worker process a running job is locked by, if it is one of ours and alive. */
  async function runningOn(jobId: string): Promise<KilnProcess | undefined> {
    const [row] = await harnessQuery<{ status: string; lockedBy: string | null }>(
      topo!.cluster.databaseUrl, `SELECT status, locked_by AS "lockedBy" FROM content_jobs WHERE id = $1`, [jobId],
    );
    if (row?.status !== 'running' || !row.lockedBy) return undefined;
    return topo!.cluster.byWorkerId(row.lockedBy);
  }

  /**
   * SIGKILLs the worker (alone: its render process and ffmpeg must die by themselves), waits for
   * the job to end on the other worker, checks it ended done exactly once there with one primary
   * asset whose object is in the bucket, downloads it from both APIs, then restarts the worker.
   */
  async function killAndRecover(jobId: string, victim: KilnProcess, label: string) {
    const cluster = topo!.cluster;
    const victimId = victim.workerId;
    const killedAt = Date.now();
    const family = await victim.kill();
    counts.workersKilled++;
    const gone = await waitUntilGone(family, 10_000);
    check(gone.left.length === 0, `${label}: processes of the SIGKILLed ${victim.name} still ran 10 s later: ${describeProcs(family.filter((f) => gone.left.some((l) => l.pid === f.pid)))}`);
    const settled = await waitAllTerminal(cluster.databaseUrl, profile.settleSeconds * 1000, [jobId]);
    const [job] = settled.jobs;
    const [row] = await harnessQuery<{ lockedBy: string | null; primaries: number; doneEvents: number; retrying: number }>(
      cluster.databaseUrl,
      `SELECT j.locked_by AS "lockedBy",
              (SELECT count(*)::int FROM assets a WHERE a.source_job_id = j.id AND a.role = 'primary') AS primaries,
              (SELECT count(*)::int FROM content_job_events e WHERE e.job_id = j.id AND e.type = 'content_job.done') AS "doneEvents",
              (SELECT count(*)::int FROM content_job_events e WHERE e.job_id = j.id AND e.type = 'content_job.retrying') AS retrying
       FROM content_jobs j WHERE j.id = $1`,
      [jobId],
    );
    const finisher = [...cluster.processes.values()].find((p) => p.workerId === row?.lockedBy);
    check(job?.status === 'done', `${label}: the job ended ${job?.status} (${job?.errorCode}), not done`);
    check(job?.attempt === 2 && job?.lostAttempts === 1, `${label}: attempt ${job?.attempt}, lost ${job?.lostAttempts}; expected attempt 2 after one lost worker`);
    check(row?.doneEvents === 1, `${label}: ${row?.doneEvents} content_job.done events`);
    check(row?.retrying === 1, `${label}: ${row?.retrying} content_job.retrying events (expected the one worker_lost)`);
    check(row?.primaries === 1, `${label}: ${row?.primaries} primary assets`);
    check(!!row?.lockedBy && row.lockedBy !== victimId && !!finisher?.alive, `${label}: finished by ${row?.lockedBy}, killed ${victimId}`);
    kills.push({
      label,
      killed: `${victim.name} (${family.map((p) => p.kind).join('+') || 'no children'})`,
      finishedBy: finisher?.name ?? row?.lockedBy,
      doneSecondsAfterKill: (Date.now() - killedAt) / 1000,
      deadFamilyGoneMs: gone.left.length === 0 ? Math.round(gone.ms) : null,
    });
    await verifyDownloads(jobId);
    const restarted = await cluster.restart(victim.name);
    await restarted.waitReady();
  }

  /** Downloads every asset of a done job from both APIs: same bytes, sha256 = the asset's, object in the bucket. */
  async function verifyDownloads(jobId: string) {
    const t = topo!;
    const view = await requestJson(`${t.cluster.companyBase('api-2')}/content-jobs/${jobId}`);
    if (!check(view.status === 200 && view.body.status === 'done', `api-2 shows job ${jobId} as ${view.status} ${view.body?.status}`)) return;
    const job = view.body;
    const primaries = (job.assets as any[]).filter((a) => a.role === 'primary');
    check(primaries.length === 1, `job ${jobId} (${job.kind}) has ${primaries.length} primary assets`);
    const objects = new Map((await t.listObjects()).map((o) => [o.key, o.size]));
    const [keyRow] = await harnessQuery<{ key: string }>(t.cluster.databaseUrl, `SELECT object_key AS key FROM assets WHERE id = $1`, [job.output.id]);
    check(!!keyRow && objects.get(keyRow.key) === job.output.byteSize, `the object of ${job.kind} output ${job.output.id} is not in the bucket with ${job.output.byteSize} bytes`);
    for (const asset of job.assets as any[]) {
      const bodies: Buffer[] = [];
      for (const api of t.apiNames) {
        const res = await fetch(`${t.cluster.get(api).url}${asset.url}`, { signal: AbortSignal.timeout(60_000) });
        const buf = Buffer.from(await res.arrayBuffer());
        counts.downloads++;
        counts.bytesDownloaded += buf.length;
        const ok = res.status === 200 && buf.length === asset.byteSize && sha256(buf) === asset.sha256;
        if (!ok) counts.hashMismatches++;
        check(ok, `${api}: ${asset.role} asset ${asset.id} of ${job.kind} answered ${res.status}, ${buf.length} bytes, sha256 ${sha256(buf).slice(0, 12)} (asset: ${asset.byteSize}, ${String(asset.sha256).slice(0, 12)})`);
        bodies.push(buf);
      }
      // A range from the API that did not render it either.
      const res = await fetch(`${t.cluster.get('api-2').url}${asset.url}`, { headers: { range: 'bytes=4-1027' } });
      const part = Buffer.from(await res.arrayBuffer());
      check(res.status === 206 && part.equals(bodies[0]!.subarray(4, 1028)), `api-2: Range on ${asset.id} answered ${res.status} with ${part.length} bytes that differ from the full body`);
      if (asset.role === 'primary') await checkContent(job.kind, bodies[0]!, job);
    }
  }

  /** The bytes are what the kind says: a PNG of the SVG's size, an H.264 MP4 of the scenes' length, a PDF. */
  async function checkContent(kind: string, buf: Buffer, job: any) {
    if (kind === 'image') {
      const meta = await sharp(buf).metadata();
      check(meta.format === 'png' && meta.width === Number(/width="(\d+)"/.exec(job.input?.svg ?? '')?.[1] ?? meta.width), `image ${job.id}: decoded as ${meta.format} ${meta.width}×${meta.height}`);
    } else if (kind === 'video') {
      const file = path.join(scratch, `${job.id}.mp4`);
      writeFileSync(file, buf);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file], { encoding: 'utf8' });
      const info = JSON.parse(probe.stdout || '{}');
      const codecs = (info.streams ?? []).map((s: any) => s.codec_name);
      const seconds = Number(info.format?.duration);
      const want = (job.input?.scenes?.length ?? 0) * 3;
      check(codecs.includes('h264') && Math.abs(seconds - want) < 0.5, `video ${job.id}: ffprobe says ${codecs.join('+')} ${seconds} s, expected h264 of ${want} s`);
    } else if (kind === 'document') {
      check(buf.subarray(0, 5).toString('latin1') === '%PDF-', `document ${job.id} is not a PDF`);
    }
  }

  function checkBucket(b: BucketFacts) {
    check(b.orphans.length === 0, `objects with no asset row: ${b.orphans.join(', ')}`);
    check(b.missing.length === 0, `asset rows with no object: ${b.missing.join(', ')}`);
    check(b.wrongSize.length === 0, `objects of the wrong size: ${JSON.stringify(b.wrongSize)}`);
    check(b.inProgressUploads.length === 0, `multipart uploads left in progress: ${JSON.stringify(b.inProgressUploads)}`);
    check(b.localStorageFiles.length === 0, `files under a process's local storage dir: ${b.localStorageFiles.join(', ')}`);
  }
}

/** Events of the jobs as PostgreSQL has them, in commit order (the order streams deliver). */
async function dbEvents(dbUrl: string, jobIds: string[]): Promise<DbEvent[]> {
  return harnessQuery<DbEvent>(
    dbUrl,
    `SELECT id::text AS id, job_id AS "jobId", type, extract(epoch FROM created_at)::float8 * 1000 AS "createdAt"
     FROM content_job_events e WHERE e.job_id = ANY($1::uuid[]) ORDER BY e.xid, e.id`, // the table's columns: a bare `id` would sort the text alias
    [jobIds],
  );
}

async function runSweeper(t: S3Topology): Promise<{ partials: number; orphans: number }> {
  const storage = createStorageService(createS3Provider({
    bucket: t.s3.bucket, region: t.s3.region, endpoint: t.s3.endpoint, forcePathStyle: true, prefix: t.prefix, credentials: t.s3.credentials,
  }));
  const client = await connectHarnessClient(t.cluster.databaseUrl);
  try {
    return await sweepOrphans({ pool: client, storage, graceMs: 0 });
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameSet = (a: string[], b: string[]) => {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
};
