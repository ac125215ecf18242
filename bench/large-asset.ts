/**
 * Large asset (not a test): a 500 MiB `video/mp4` output written through a job and served over
 * HTTP, while the server process's RSS is read from /proc/<pid>/status every 50 ms.
 *
 * One `kiln serve` (API + in-process worker: the bytes cross the server process twice — from the
 * render process into storage, and from storage to the client) on the harness's PostgreSQL. The
 * job is `bench-large-video` (bench/large-asset-renderers.ts): 500 MiB of generated,
 * incompressible bytes streamed as video/mp4. Then the asset is downloaded in full (sha256
 * checked against the asset's and against the generator's), and once with a Range (300 MiB from
 * offset 100 MiB, checked against the generator).
 *
 * For each step — writing, serving the whole file, serving the range — it prints the server's
 * RSS before (median of 10 reads, after a 1 MiB warm-up job and download; each serve step on a
 * freshly restarted server, so memory the previous step freed but the allocator kept is not
 * counted again) and its peak growth during the step; the goal is < 64 MiB each. Throughput of
 * each step for reference. `--storage s3` stores in s3rver on loopback (multipart upload, ranged
 * GetObject) instead of the local disk.
 *
 *   npx tsx bench/large-asset.ts [--mib 500] [--storage local|s3] [--env KEY=VALUE …]
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KilnCluster, TEST_RENDERER_MODULES } from '../test/harness/kiln-cluster.js';
import { requestJson } from '../test/harness/http-client.js';
import { startS3TestServer, type S3TestServer } from '../server/test/support/s3-test-server.js';
import { fmtMiB, loadNote, MIB, RssSampler, steadyRss } from './proc-stats.js';
import { sha256OfRange } from './large-asset-bytes.js';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '500' },
    storage: { type: 'string', default: 'local' },
    /** Extra environment of the server process, e.g. `--env MALLOC_MMAP_THRESHOLD_=131072` (repeatable). */
    env: { type: 'string', multiple: true, default: [] },
  },
});
const EXTRA_ENV = Object.fromEntries(values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const BYTES = Math.round(Number(values.mib) * MIB);
const GOAL = 64 * MIB;
const RENDERERS = [...TEST_RENDERER_MODULES, fileURLToPath(new URL('./large-asset-renderers.ts', import.meta.url))];

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const started = Date.now();
console.log(`large-asset: ${fmtMiB(BYTES)} video/mp4 through one kiln serve, storage ${values.storage}${values.env!.length ? `, server env ${values.env!.join(' ')}` : ''} (${loadNote()})`);
const expectedSha = sha256OfRange(BYTES);
const RANGE = BYTES > 400 * MIB ? { start: 100 * MIB, end: 400 * MIB - 1 } : { start: Math.floor(BYTES / 5), end: Math.floor((BYTES * 4) / 5) - 1 };
const expectedRangeSha = sha256OfRange(BYTES, RANGE.start, RANGE.end);

let s3: S3TestServer | null = null;
if (values.storage === 's3') s3 = await startS3TestServer();
const cluster = await KilnCluster.create({
  label: 'large-asset',
  env: {
    KILN_RENDERER_MODULES: RENDERERS.join(','),
    KILN_WORKER_CONCURRENCY: '1',
    MAX_GENERATED_ASSET_BYTES: String(Math.max(BYTES, 500 * MIB)),
    ...(s3 ? s3.kilnEnv() : {}),
    ...EXTRA_ENV,
  },
});
try {
  const [server] = await cluster.start([{ name: 'kiln', role: 'serve' }]);
  const base = cluster.companyBase('kiln');

  /** Submits a job and waits for it (Prefer: wait, then ?wait=60 polls); returns the finished job. */
  async function runJob(bytes: number): Promise<any> {
    const r = await requestJson(`${base}/content-jobs`, { method: 'POST', body: { kind: 'bench-large-video', input: { bytes } }, timeoutMs: 60_000 });
    if (r.status !== 202) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
    for (let i = 0; i < 40; i++) {
      const j = await requestJson(`${base}/content-jobs/${r.body.jobId}?wait=60`, { timeoutMs: 90_000 });
      if (['done', 'failed', 'canceled'].includes(j.body?.status)) {
        if (j.body.status !== 'done') throw new Error(`job ended ${j.body.status}: ${JSON.stringify(j.body.error)}`);
        return j.body;
      }
    }
    throw new Error('job did not end within 40 minutes');
  }

  /** Streams a download, hashing it; never holds more than a chunk. */
  async function download(url: string, headers: Record<string, string> = {}) {
    const t0 = performance.now();
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(600_000) });
    const h = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      h.update(chunk);
      bytes += chunk.byteLength;
    }
    return { status: res.status, bytes, sha: h.digest('hex'), seconds: (performance.now() - t0) / 1000 };
  }

  // Warm-up: the job path and the download path once, with 1 MiB.
  const warm = await runJob(MIB);
  await download(`${server!.url}${warm.output.url}`);

  /**
   * Each step runs on a fresh server process (restarted with SIGTERM, same port and data), warmed
   * up with the 1 MiB download, so memory the previous step freed but the allocator kept does not
   * count against the next one.
   */
  const measure = async <T>(what: string, fresh: boolean, step: () => Promise<T>) => {
    let proc = cluster.get('kiln');
    if (fresh) {
      await proc.terminate();
      proc = await cluster.restart('kiln');
      await proc.waitReady();
      await download(`${proc.url}${warm.output.url}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const baseline = await steadyRss(proc.pid);
    const sampler = new RssSampler(proc.pid, 50);
    const t0 = Date.now();
    const result = await step();
    const seconds = (Date.now() - t0) / 1000;
    sampler.stop();
    const growth = sampler.peak - baseline;
    // RSS over the step, at each tenth of its duration: a plateau is bounded buffering, a climb would be a leak.
    const tenths = Array.from({ length: 11 }, (_, i) => sampler.samples[Math.min(sampler.samples.length - 1, Math.floor((i / 10) * sampler.samples.length))]!.rss);
    console.log(`  ${what}: server pid ${proc.pid}, baseline RSS ${fmtMiB(baseline)}, peak ${fmtMiB(sampler.peak)}; RSS − baseline at each tenth of the step (MiB): ${tenths.map((r) => ((r - baseline) / MIB).toFixed(0)).join(' ')}`);
    return { result, seconds, growth, baseline };
  };

  const write = await measure('write', false, () => runJob(BYTES));
  const asset = write.result.output;
  const fullM = await measure('serve', true, () => download(`${cluster.get('kiln').url}${asset.url}`));
  const partM = await measure('range', true, () => download(`${cluster.get('kiln').url}${asset.url}`, { range: `bytes=${RANGE.start}-${RANGE.end}` }));
  const full = fullM.result;
  const part = partM.result;
  const verdict = (g: number) => (g < GOAL ? `< 64 MiB: met` : `≥ 64 MiB: NOT met`);
  const problems: string[] = [];
  if (asset.byteSize !== BYTES || asset.contentType !== 'video/mp4') problems.push(`asset: ${asset.byteSize} bytes of ${asset.contentType}`);
  if (asset.sha256 !== expectedSha) problems.push(`asset sha256 ${asset.sha256} ≠ generated ${expectedSha}`);
  if (full.status !== 200 || full.bytes !== BYTES || full.sha !== expectedSha) problems.push(`full download: ${full.status}, ${full.bytes} bytes, sha256 ${full.sha}`);
  const rangeLen = RANGE.end - RANGE.start + 1;
  if (part.status !== 206 || part.bytes !== rangeLen || part.sha !== expectedRangeSha) problems.push(`range download: ${part.status}, ${part.bytes} bytes, sha256 ${part.sha}`);

  console.log(`\nlarge-asset results (${values.storage} storage; ${loadNote()}); the goal: server RSS growth < 64 MiB`);
  console.log(`  write  ${fmtMiB(BYTES)} (job submit → done, ${write.seconds.toFixed(1)} s, ${(BYTES / MIB / write.seconds).toFixed(0)} MiB/s): peak RSS growth ${fmtMiB(write.growth)} — ${verdict(write.growth)}`);
  console.log(`  serve  ${fmtMiB(full.bytes)} in full (${full.seconds.toFixed(1)} s, ${(full.bytes / MIB / full.seconds).toFixed(0)} MiB/s, sha256 ${full.sha === expectedSha ? 'ok' : 'WRONG'}): peak RSS growth ${fmtMiB(fullM.growth)} — ${verdict(fullM.growth)}`);
  console.log(`  serve  Range bytes=${RANGE.start}-${RANGE.end} (${fmtMiB(part.bytes)}, ${part.status}, ${part.seconds.toFixed(1)} s, sha256 ${part.sha === expectedRangeSha ? 'ok' : 'WRONG'}): peak RSS growth ${fmtMiB(partM.growth)} — ${verdict(partM.growth)}`);
  for (const p of problems) console.log(`  PROBLEM: ${p}`);
  console.log(`  took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} finally {
  await cluster.cleanup({ graceMs: 20_000 });
  await s3?.stop();
}
