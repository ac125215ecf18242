import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { listEventsOfJob } from '../src/services/events/event-store.js';
import serverPackage from '../package.json' with { type: 'json' };

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));
const CLI_TEST_RENDERERS = new URL('./support/cli-test-renderers.ts', import.meta.url).href;
let kiln: TestKiln;
let dir: string;

beforeAll(async () => {
  kiln = await startTestKiln({}, { rendererModules: [TEST_RENDERERS, CLI_TEST_RENDERERS] });
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-cli-client-'));
});
afterAll(async () => {
  await kiln?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `kiln` binary with stdout piped (so not a TTY) against the test server. KILN_COMPANY_ID
 * is unset, so commands find the default company through GET /api/companies.
 */
function kilnCli(args: string[], o: { stdin?: string; env?: Record<string, string>; onLine?: (line: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_URL: kiln.url, ...o.env };
  delete env.KILN_COMPANY_ID;
  delete env.KILN_API_KEY;
  const child = spawn(process.execPath, [KILN_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      o.onLine?.(partial.slice(0, nl), child);
      partial = partial.slice(nl + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(o.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** util-linux `script`, to give the CLI a terminal; without it the terminal tests are skipped. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs the real binary with stdout on a pseudo-terminal (through `script`), as a person at a
 * terminal would, and stderr into a file so the test can tell the two apart.
 */
async function kilnCliOnTerminal(args: string[]): Promise<Run> {
  const errFile = path.join(dir, `stderr-${randomUUID()}.txt`);
  const command = `${[process.execPath, KILN_BIN, ...args].map(shellQuote).join(' ')} 2>${shellQuote(errFile)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_URL: kiln.url };
  delete env.KILN_COMPANY_ID;
  delete env.KILN_API_KEY;
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  const stderr = await readFile(errFile, 'utf8').catch(() => '');
  return { code, signal, stdout: stdout.replaceAll('\r\n', '\n'), stderr };
}

const jsonLines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;

describe('kiln client commands', () => {
  it('prints help with exit 0 and rejects bad command lines with exit 2', async () => {
    const [help, helpWatch, subHelp, unknownCommand, unknownFlag, missingInput, badStatus] = await Promise.all([
      kilnCli(['--help']),
      kilnCli(['help', 'watch']),
      kilnCli(['jobs', 'ls', '--help']),
      kilnCli(['frobnicate']),
      kilnCli(['submit', 'test-slow', '--input', '-', '--frobnicate']),
      kilnCli(['submit', 'test-slow']),
      kilnCli(['jobs', 'ls', '--status', 'sleeping']),
    ]);
    expect(help).toMatchObject({ code: 0 });
    for (const name of ['serve', 'submit', 'watch', 'jobs', 'assets', 'renderers', 'companies', 'keys']) expect(help.stdout).toContain(name);
    expect(helpWatch).toMatchObject({ code: 0, stdout: expect.stringContaining('kiln watch <jobId>') });
    expect(subHelp).toMatchObject({ code: 0, stdout: expect.stringContaining('--status') });
    expect(unknownCommand).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command: frobnicate') });
    expect(unknownFlag).toMatchObject({ code: 2, stderr: expect.stringContaining('--frobnicate') });
    expect(missingInput).toMatchObject({ code: 2, stderr: expect.stringContaining('--input') });
    expect(badStatus.code).toBe(2);
  });

  it('--version and version print the package version; --priority help says higher runs first', async () => {
    const [flag, command, submitHelp] = await Promise.all([kilnCli(['--version']), kilnCli(['version']), kilnCli(['help', 'submit'])]);
    expect(flag).toMatchObject({ code: 0, stdout: `kiln ${serverPackage.version}\n` });
    expect(command).toMatchObject({ code: 0, stdout: `kiln ${serverPackage.version}\n` });
    expect(submitHelp.stdout).toMatch(/--priority N\s+higher runs first: -100\.\.100, default 0/);
  });

  it('names a missing argument and suggests the closest option, command or subcommand (exit 2)', async () => {
    const [assetsGet, jobsCancel, watch, submitKind, wiat, otu, idem, sumbit, lss, farAway] = await Promise.all([
      kilnCli(['assets', 'get']),
      kilnCli(['jobs', 'cancel']),
      kilnCli(['watch', '--json']),
      kilnCli(['submit', '--input', '-']),
      kilnCli(['submit', 'test-slow', '--input', '-', '--wiat']),
      kilnCli(['assets', 'get', randomUUID(), '--otu', 'x']),
      kilnCli(['submit', 'test-slow', '--input', '-', '--idem', 'k']),
      kilnCli(['sumbit', 'test-slow']),
      kilnCli(['jobs', 'lss']),
      kilnCli(['jobs', 'ls', '--zzzzzzzz']),
    ]);
    for (const run of [assetsGet, jobsCancel, watch, submitKind, wiat, otu, idem, sumbit, lss, farAway]) expect(run.code).toBe(2);
    expect(assetsGet.stderr).toContain('kiln assets get: missing <assetId>');
    expect(jobsCancel.stderr).toContain('kiln jobs cancel: missing <jobId>');
    expect(watch.stderr).toContain('kiln watch: missing <jobId>');
    expect(submitKind.stderr).toContain('kiln submit: missing <kind>');
    expect(wiat.stderr).toContain('kiln submit: unknown option --wiat; did you mean --wait?');
    expect(otu.stderr).toContain('kiln assets get: unknown option --otu; did you mean --out?');
    expect(idem.stderr).toContain('unknown option --idem; did you mean --idempotency-key?');
    expect(sumbit.stderr).toContain('unknown command: sumbit; did you mean kiln submit?');
    expect(lss.stderr).toContain('did you mean kiln jobs ls?');
    expect(farAway.stderr).toContain('kiln jobs ls: unknown option --zzzzzzzz');
    expect(farAway.stderr).not.toContain('did you mean');
  });

  it('submit --wait --out: JSON lines when piped, exit 0, and the file has the asset sha256', async () => {
    const out = path.join(dir, 'slow.txt');
    const task = `task-${randomUUID()}`;
    const run = await kilnCli(['submit', 'test-slow', '--input', '-', '--wait', '--out', out, '--task', task, '--priority=-5'], {
      stdin: JSON.stringify({ ms: 600, steps: 3 }),
    });
    expect(run.stderr).toContain('wrote');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines[0]).toMatchObject({ type: 'snapshot', job: { kind: 'test-slow', sourceTaskId: task, priority: -5 } });
    const jobId = lines[0].job.id as string;
    // Every event in order, then the finished job (which the terminal event, ids only, is not).
    const events = lines.slice(1, -1);
    const stored = await listEventsOfJob(kiln.database.pool, kiln.companyId, jobId);
    expect(events.map((e) => `${e.id}:${e.type}`)).toEqual(stored.map((e) => `${e.id}:${e.type}`));
    expect(events.at(-1)).toMatchObject({ type: 'content_job.done', jobId, payload: { status: 'done' } });
    const job = (await kiln.api('GET', `${jobsPath()}/${jobId}`)).body;
    expect(lines.at(-1)).toEqual({ type: 'result', job });

    const primary = job.assets.find((a: any) => a.role === 'primary');
    expect(await sha256(out)).toBe(primary.sha256);

    // The same asset again through `assets get`: into an existing directory (under its filename),
    // into DIR/ that does not exist yet (created), and as metadata.
    const newDir = path.join(dir, `new-${randomUUID()}`, 'nested');
    const [intoDir, intoNewDir, meta] = await Promise.all([
      kilnCli(['assets', 'get', primary.id, '--out', dir]),
      kilnCli(['assets', 'get', primary.id, '--out', `${newDir}/`]),
      kilnCli(['assets', 'get', primary.id]),
    ]);
    expect(intoDir.code).toBe(0);
    expect(await sha256(path.join(dir, primary.filename))).toBe(primary.sha256);
    expect(intoNewDir).toMatchObject({ code: 0, stderr: expect.stringContaining(path.join(newDir, primary.filename)) });
    expect(await sha256(path.join(newDir, primary.filename))).toBe(primary.sha256);
    expect(meta.code).toBe(0);
    expect(JSON.parse(meta.stdout)).toMatchObject({ id: primary.id, sha256: primary.sha256 });
  });

  it('submit --wait --out DIR/ creates the folder and saves under the output name asked for', async () => {
    const outDir = path.join(dir, `renders-${randomUUID()}`);
    const run = await kilnCli(['submit', 'test-slow', '--input', '-', '--output-name', 'nap', '--out', `${outDir}/`], { stdin: '{"ms":0,"steps":1}' });
    expect(run.code).toBe(0);
    const { job } = jsonLines(run.stdout).at(-1);
    expect(job).toMatchObject({ status: 'done', outputName: 'nap', output: { filename: 'nap.txt' } });
    expect(await sha256(path.join(outDir, 'nap.txt'))).toBe(job.output.sha256);
  });

  it('submit --wait exits 1 when the job fails; server errors exit 1 with their code', async () => {
    const [failed, unknownKind, missingJob] = await Promise.all([
      kilnCli(['submit', 'test-fail', '--input', '-', '--wait'], { stdin: '{"code":"render_failed"}' }),
      kilnCli(['submit', 'no-such-kind', '--input', '-'], { stdin: '{}' }),
      kilnCli(['watch', randomUUID()]),
    ]);
    expect(failed.code).toBe(1);
    expect(jsonLines(failed.stdout).at(-2)).toMatchObject({ type: 'content_job.failed', payload: { error: { code: 'render_failed' } } });
    expect(jsonLines(failed.stdout).at(-1)).toMatchObject({ type: 'result', job: { status: 'failed', error: { code: 'render_failed' } } });
    expect(unknownKind).toMatchObject({ code: 1, stderr: expect.stringContaining('unknown_kind') });
    expect(missingJob).toMatchObject({ code: 1, stderr: expect.stringContaining('job_not_found') });
  });

  it('watch exits 3 when the job is canceled, and 130 when interrupted', async () => {
    const create = async () => (await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 60_000, steps: 60 } })).body.jobId as string;
    const [canceledId, interruptedId] = await Promise.all([create(), create()]);
    await waitForJob(kiln, canceledId, (j) => j.status === 'running');
    let cancelSent = false;
    let interruptSent = false;
    const [canceled, interrupted] = await Promise.all([
      kilnCli(['watch', canceledId, '--company', kiln.companyId], {
        onLine: () => {
          if (cancelSent) return;
          cancelSent = true;
          void kiln.api('POST', `${jobsPath()}/${canceledId}/cancel`);
        },
      }),
      kilnCli(['watch', interruptedId], {
        onLine: (_line, child) => {
          if (interruptSent) return;
          interruptSent = true;
          child.kill('SIGINT');
        },
      }),
    ]);
    expect(canceled.code).toBe(3);
    expect(jsonLines(canceled.stdout).at(-2)).toMatchObject({ type: 'content_job.canceled', jobId: canceledId });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain(`kiln jobs cancel ${interruptedId}`);
    await kiln.api('POST', `${jobsPath()}/${interruptedId}/cancel`);
  });

  it('Ctrl-C during submit --wait exits 130, says the job is still running and how to cancel it; the job keeps running', async () => {
    let jobId = '';
    const run = await kilnCli(['submit', 'test-slow', '--input', '-', '--wait', '--company', kiln.companyId], {
      stdin: JSON.stringify({ ms: 60_000, steps: 60 }),
      onLine: (line, child) => {
        if (jobId) return;
        jobId = JSON.parse(line).job.id;
        child.kill('SIGINT');
      },
    });
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(new RegExp(`interrupted .*job ${jobId} is still (queued|running)`));
    expect(run.stderr).toContain(`kiln jobs cancel ${jobId} --company ${kiln.companyId}`);
    const job = (await kiln.api('GET', `${jobsPath()}/${jobId}`)).body;
    expect(job).toMatchObject({ cancelRequested: false, status: expect.stringMatching(/^(queued|running)$/) });

    // What the message says to run does cancel it.
    const cancel = await kilnCli(['jobs', 'cancel', jobId, '--company', kiln.companyId]);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ id: jobId });
    expect(await waitForJob(kiln, jobId)).toMatchObject({ status: 'canceled' });
  });

  it('jobs cancel cancels a queued or running job, and exits 1 for one that already ended', async () => {
    const { jobId } = (await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 60_000, steps: 60 } })).body;
    const run = await kilnCli(['jobs', 'cancel', jobId]);
    expect(run.code).toBe(0);
    const shown = JSON.parse(run.stdout);
    expect(shown.id).toBe(jobId);
    expect(shown.status === 'canceled' || shown.cancelRequested).toBe(true);
    expect(await waitForJob(kiln, jobId)).toMatchObject({ status: 'canceled' });

    const again = await kilnCli(['jobs', 'cancel', jobId]);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('job_not_cancelable') });
  });

  it("shows the job's warnings and the output's URL at the end: in the JSON when piped, on stderr on a terminal", async () => {
    const input = JSON.stringify({ warnings: ['text shrunk to fit', 'image scaled down'] });
    await writeFile(path.join(dir, 'warn.json'), input);
    const piped = await kilnCli(['submit', 'test-warn', '--input', '-', '--wait'], { stdin: input });
    expect(piped.code).toBe(0);
    const { job } = jsonLines(piped.stdout).at(-1);
    expect(job).toMatchObject({ status: 'done', warnings: ['text shrunk to fit', 'image scaled down'] });
    expect(job.output.url).toContain(`/assets/${job.output.id}/content`);

    if (!hasScript) return; // no way to give the CLI a terminal here; the piped half still ran
    const [onTerminal, watched] = await Promise.all([
      kilnCliOnTerminal(['submit', 'test-warn', '--input', path.join(dir, 'warn.json'), '--wait']),
      kilnCliOnTerminal(['watch', job.id]),
    ]);
    for (const run of [onTerminal, watched]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/done in [\d.]+s: job /);
      expect(run.stdout).toMatch(new RegExp(`output  ${kiln.url}/api/companies/${kiln.companyId}/assets/[0-9a-f-]{36}/content`));
      expect(run.stdout).not.toContain('shrunk');
      expect(run.stderr).toContain('kiln: warning: text shrunk to fit\nkiln: warning: image scaled down\n');
    }
  });

  it('submit without --wait prints the job id; jobs ls and renderers ls print JSON lines', async () => {
    const task = `task-${randomUUID()}`;
    const submitted = await kilnCli(['submit', 'test-bytes', '--input', '-', '--task', task], { stdin: '{"bytes":100}' });
    expect(submitted.code).toBe(0);
    const jobId = submitted.stdout.trim();
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForJob(kiln, jobId);

    const [byTask, none, renderers] = await Promise.all([
      kilnCli(['jobs', 'ls', '--task', task, '--status', 'done', '--kind', 'test-bytes', '--limit', '5']),
      kilnCli(['jobs', 'ls', '--task', task, '--status', 'failed']),
      kilnCli(['renderers', 'ls']),
    ]);
    expect(byTask.code).toBe(0);
    expect(jsonLines(byTask.stdout)).toEqual([expect.objectContaining({ id: jobId, status: 'done', sourceTaskId: task })]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(renderers.code).toBe(0);
    expect(jsonLines(renderers.stdout).map((r) => r.kind)).toEqual(expect.arrayContaining(['image', 'test-slow']));
  });

  it('jobs ls --limit stops after N jobs across pages', async () => {
    const task = `task-${randomUUID()}`;
    await Promise.all([1, 2, 3].map(() => kiln.api('POST', jobsPath(), { kind: 'test-bytes', input: { bytes: 1 }, sourceTaskId: task })));
    const run = await kilnCli(['jobs', 'ls', '--task', task, '--limit', '2']);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toHaveLength(2);
  });

  it('assets ls lists a job\'s assets (JSON lines when piped), with --limit', async () => {
    const { jobId } = (await kiln.api('POST', jobsPath(), { kind: 'test-bytes', input: { bytes: 10 } })).body;
    const job = await waitForJob(kiln, jobId);
    const [all, one, bad] = await Promise.all([
      kilnCli(['assets', 'ls', '--job', jobId]),
      kilnCli(['assets', 'ls', '--job', jobId, '--limit', '1']),
      kilnCli(['assets', 'ls', '--limit', 'many']),
    ]);
    expect(all.code).toBe(0);
    expect(jsonLines(all.stdout).map((a) => a.id).sort()).toEqual(job.assets.map((a: any) => a.id).sort());
    expect(jsonLines(one.stdout)).toHaveLength(1);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('kiln assets ls: --limit must be a whole number') });
  });

  it('assets put uploads a file (streamed) and prints the asset; a missing file exits 2, a refused one 1', async () => {
    const file = path.join(dir, 'table.csv');
    const rows = Array.from({ length: 6000 }, (_, i) => `${i},${randomBytes(16).toString('hex')},${i * 7}`);
    const bytes = Buffer.from(`n,hash,seven\n${rows.join('\n')}\n`);
    await writeFile(file, bytes);
    const binary = path.join(dir, 'noise.bin');
    await writeFile(binary, randomBytes(1000));
    const [put, named, missing, refused] = await Promise.all([
      kilnCli(['assets', 'put', file]),
      kilnCli(['assets', 'put', file, '--filename', 'numbers.txt', '--type', 'text/plain', '--company', kiln.companyId]),
      kilnCli(['assets', 'put', path.join(dir, 'no-such-file.csv')]),
      kilnCli(['assets', 'put', binary]),
    ]);
    expect(put.code).toBe(0);
    const asset = JSON.parse(put.stdout);
    expect(asset).toMatchObject({
      role: 'input',
      jobId: null,
      filename: 'table.csv',
      contentType: 'text/csv',
      byteSize: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ filename: 'numbers.txt', contentType: 'text/plain', byteSize: bytes.length });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('kiln assets put: cannot read') });
    // The server's refusal, with its code: an unknown type is not accepted.
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('unsupported_media_type') });

    // What went up comes back byte for byte.
    const back = path.join(dir, 'downloaded.csv');
    expect((await kilnCli(['assets', 'get', asset.id, '--out', back])).code).toBe(0);
    expect(Buffer.compare(await readFile(back), bytes)).toBe(0);

    if (!hasScript) return;
    const onTerminal = await kilnCliOnTerminal(['assets', 'put', file]);
    expect(onTerminal.code).toBe(0);
    expect(onTerminal.stdout.trim()).toMatch(/^[0-9a-f-]{36}  table\.csv  text\/csv  \d+\.\d KiB$/);
  });

  it('companies ls still works on the database directly', async () => {
    const run = await kilnCli(['companies', 'ls'], { env: { DATABASE_URL: kiln.databaseUrl, KILN_DATA_DIR: dir, KILN_LOG_LEVEL: 'silent' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(kiln.companyId);
  });
});
