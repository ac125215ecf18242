/**
 * SSE capacity (not a test): one `kiln serve --no-worker` process holding N open company event
 * streams (default 10,000, spread over C companies), the load generator (this process) and the
 * event writer (bench/sse-capacity-writer.ts) in processes of their own, all on loopback.
 *
 * Prints:
 *   - RSS per stream: (the server's RSS with N streams open − its RSS with none, after a warm-up) ÷ N,
 *     each RSS the median of 10 reads of /proc/<pid>/status 200 ms apart;
 *   - fan-out latency at R events/s: the writer appends events at a steady R/s through the
 *     lifecycle's `appendJobEvent` (event row + pg_notify, one autocommitted statement) on its own
 *     connection; each event goes to the streams of its company. Latency = arrival at a stream
 *     (the load generator parsed the SSE message) − the writer's commit acknowledgement (PostgreSQL
 *     answered the INSERT, so it had committed). Both stamps are performance.timeOrigin +
 *     performance.now() (wall clock, sub-ms) in two processes of one machine. The latency from the
 *     statement being *sent* is printed too: the commit lies between the two;
 *   - deliveries received vs expected, streams the server dropped, the server's CPU while fanning out.
 *
 *   npx tsx bench/sse-capacity.ts [--streams 10000] [--companies 100] [--rate 100] [--seconds 30] [--cpu-prof DIR]
 *
 * `--companies 1` puts every stream on one company, so each event goes to all N streams.
 * The open-files limit: each stream is a socket in the server and one here. When this process's
 * soft limit (`ulimit -n`) is below N + 512 it re-executes itself under `ulimit -n`, and the
 * server is started with that limit; both stop with a message if the hard limit is too low.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KilnCluster } from '../test/harness/kiln-cluster.js';
import { requestJson } from '../test/harness/http-client.js';
import { cpuSeconds, fmtMiB, loadNote, openFilesLimit, RssSampler, steadyRss } from './proc-stats.js';
import { percentile } from './kiln-server.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '10000' },
    companies: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    'open-concurrency': { type: 'string', default: '64' },
    /** Write a V8 CPU profile of the server to this directory (read it in Chrome DevTools). */
    'cpu-prof': { type: 'string' },
  },
});
const STREAMS = Number(values.streams);
const COMPANIES = Math.max(1, Math.min(Number(values.companies), STREAMS));
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const OPEN_CONCURRENCY = Number(values['open-concurrency']);
const NEED_FILES = STREAMS + 512;

// ---- The open-files limit: raise it (re-exec under `ulimit -n`) or stop.
const limit = openFilesLimit();
if (limit.soft < NEED_FILES) {
  if (limit.hard < NEED_FILES || process.env.KILN_BENCH_REEXEC) {
    console.error(`sse-capacity: ${STREAMS} streams need ${NEED_FILES} open files; ulimit -n is ${limit.soft} (hard ${limit.hard}). Raise the hard limit (e.g. in /etc/security/limits.conf or with prlimit) and rerun.`);
    process.exit(2);
  }
  console.log(`ulimit -n is ${limit.soft}; re-executing with ${NEED_FILES}`);
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${NEED_FILES} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, KILN_BENCH_REEXEC: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}

interface Stream {
  req: http.ClientRequest;
  open: boolean;
  closedEarly: boolean;
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const started = Date.now();
  console.log(`sse-capacity: ${STREAMS} company streams over ${COMPANIES} companies, ${RATE} events/s for ${SECONDS} s (${loadNote()}, ulimit -n ${limit.soft})`);
  const cluster = await KilnCluster.create({ label: 'sse-capacity', env: { KILN_SSE_KEEPALIVE_SECONDS: '15' } });
  const streams: Stream[] = [];
  let stopping = false;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : undefined;
    const [server] = await cluster.start([{ name: 'api', role: 'api', openFilesLimit: NEED_FILES, nodeArgs }]);
    const pid = server!.pid;
    const base = server!.url!;
    console.log(`server: kiln serve --no-worker, pid ${pid}, ulimit -n ${openFilesLimit(pid).soft}`);

    // Companies, each with one queued job to hang its events on (no worker: it stays queued).
    const targets: [string, string][] = [];
    for (let i = 0; i < COMPANIES; i += 16) {
      const batch = await Promise.all(Array.from({ length: Math.min(16, COMPANIES - i) }, async (_, k) => {
        const c = await requestJson(`${base}/api/companies`, { method: 'POST', body: { name: `sse-bench-${i + k}` } });
        if (c.status !== 201 && c.status !== 200) throw new Error(`POST /api/companies: ${c.status} ${JSON.stringify(c.body)}`);
        const companyId: string = c.body.id ?? c.body.company?.id;
        const j = await requestJson(`${base}/api/companies/${companyId}/content-jobs`, { method: 'POST', body: { kind: 'test-slow', input: { ms: 1 } } });
        if (j.status !== 202) throw new Error(`POST content-jobs: ${j.status} ${JSON.stringify(j.body)}`);
        return [companyId, j.body.jobId as string] as [string, string];
      }));
      targets.push(...batch);
    }

    // Arrivals: (seq, time) pairs, appended by every stream's parser.
    const arrivalSeq: number[] = [];
    const arrivalAt: number[] = [];
    const now = () => performance.timeOrigin + performance.now();
    const streamsOfCompany = new Array<number>(COMPANIES).fill(0);

    const openStream = (companyIndex: number) =>
      new Promise<Stream>((resolve, reject) => {
        const url = `${base}/api/companies/${targets[companyIndex]![0]}/events`;
        const s: Stream = { req: null as unknown as http.ClientRequest, open: false, closedEarly: false };
        s.req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`stream answered ${res.statusCode}`));
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const t = now();
            buf += chunk;
            let idx: number;
            while ((idx = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, idx);
              buf = buf.slice(idx + 2);
              if (!s.open && block.includes('event: snapshot')) {
                s.open = true;
                resolve(s);
              }
              const m = /"seq":(\d+)/.exec(block);
              if (m) {
                arrivalSeq.push(Number(m[1]));
                arrivalAt.push(t);
              }
            }
          });
          res.on('close', () => {
            if (s.open && !stopping) s.closedEarly = true;
          });
        });
        s.req.on('error', (err) => (s.open ? undefined : reject(err)));
      });

    // Warm-up: the stream code paths compiled and pools filled, then nothing open.
    const warm = await Promise.all(Array.from({ length: Math.min(200, STREAMS) }, (_, i) => openStream(i % COMPANIES)));
    for (const s of warm) s.req.destroy();
    await new Promise((r) => setTimeout(r, 3000));
    const baseline = await steadyRss(pid);
    console.log(`baseline RSS (no stream open, after a 200-stream warm-up): ${fmtMiB(baseline)}`);

    // Open them, OPEN_CONCURRENCY at a time.
    const openStart = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, async () => {
      while (next < STREAMS) {
        const i = next++;
        streams.push(await openStream(i % COMPANIES));
        streamsOfCompany[i % COMPANIES]!++;
      }
    }));
    const openSeconds = (Date.now() - openStart) / 1000;
    console.log(`opened ${streams.length} streams in ${openSeconds.toFixed(1)} s (${(streams.length / openSeconds).toFixed(0)}/s)`);
    await new Promise((r) => setTimeout(r, 3000));
    const withStreams = await steadyRss(pid);
    const perStream = (withStreams - baseline) / STREAMS;
    console.log(`RSS with ${STREAMS} streams: ${fmtMiB(withStreams)} → ${(perStream / 1024).toFixed(1)} KiB per stream`);

    // Fan-out: the writer at a steady rate.
    const sampler = new RssSampler(pid, 200);
    const cpu0 = cpuSeconds(pid);
    const self0 = process.cpuUsage();
    const fanStart = Date.now();
    const sentAt = new Map<number, number>();
    const ackAt = new Map<number, number>();
    const writerFile = fileURLToPath(new URL('./sse-capacity-writer.ts', import.meta.url));
    const writer = spawn(process.execPath, [...process.execArgv, writerFile, cluster.databaseUrl, String(RATE), String(SECONDS), JSON.stringify(targets)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const writerDone = new Promise<{ total: number; late: number; seconds: number }>((resolve, reject) => {
      writer.on('message', (m: any) => {
        if (Array.isArray(m)) {
          sentAt.set(m[0], m[1]);
          ackAt.set(m[0], m[2]);
        } else if (m?.done) resolve(m);
      });
      writer.once('exit', (code) => (code ? reject(new Error(`writer exited ${code}`)) : undefined));
    });
    const w = await writerDone;
    const fanSeconds = (Date.now() - fanStart) / 1000;
    const serverCpu = cpuSeconds(pid) - cpu0;
    const self = process.cpuUsage(self0);
    await new Promise((r) => setTimeout(r, 3000)); // stragglers
    sampler.stop();

    // Latencies per delivery.
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    for (let i = 0; i < arrivalSeq.length; i++) {
      const a = ackAt.get(arrivalSeq[i]!);
      const s = sentAt.get(arrivalSeq[i]!);
      if (a !== undefined) fromAck.push(arrivalAt[i]! - a);
      if (s !== undefined) fromSend.push(arrivalAt[i]! - s);
    }
    fromAck.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    const expected = Array.from({ length: w.total }, (_, seq) => streamsOfCompany[seq % targets.length]!).reduce((a, b) => a + b, 0);
    const insertRtt = [...ackAt.keys()].map((k) => ackAt.get(k)! - sentAt.get(k)!).sort((a, b) => a - b);
    const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${x.toFixed(1)} ms`);

    console.log(`\nsse-capacity results (${loadNote()})`);
    console.log(`  streams: ${STREAMS} company streams over ${COMPANIES} companies (${(STREAMS / COMPANIES).toFixed(0)} per company)`);
    console.log(`  RSS: baseline ${fmtMiB(baseline)}, with streams ${fmtMiB(withStreams)}, peak while fanning out ${fmtMiB(sampler.peak)}`);
    console.log(`  RSS per stream: ${(perStream / 1024).toFixed(1)} KiB`);
    console.log(`  writer: ${w.total} events in ${w.seconds.toFixed(1)} s (${(w.total / w.seconds).toFixed(1)}/s, ${w.late} late by > 5 ms); INSERT round trip p50 ${ms(percentile(insertRtt, 50))}, p99 ${ms(percentile(insertRtt, 99))}`);
    console.log(`  deliveries: ${fromAck.length} received of ${expected} expected (${(fromAck.length / fanSeconds).toFixed(0)}/s); streams dropped by the server: ${streams.filter((s) => s.closedEarly).length}`);
    console.log(`  fan-out latency, commit acknowledged → arrival: p50 ${ms(percentile(fromAck, 50))}, p90 ${ms(percentile(fromAck, 90))}, p99 ${ms(percentile(fromAck, 99))}, max ${ms(fromAck.at(-1))}`);
    console.log(`  fan-out latency, INSERT sent → arrival:         p50 ${ms(percentile(fromSend, 50))}, p90 ${ms(percentile(fromSend, 90))}, p99 ${ms(percentile(fromSend, 99))}, max ${ms(fromSend.at(-1))}`);
    console.log(`  server CPU while fanning out: ${((serverCpu / fanSeconds) * 100).toFixed(0)} % of a core; load generator: ${(((self.user + self.system) / 1e6 / fanSeconds) * 100).toFixed(0)} %`);
    console.log(`  took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    stopping = true;
    for (const s of streams) s.req.destroy();
    agent.destroy();
    await cluster.cleanup({ graceMs: 20_000 });
  }
}
