import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';
import { listEventsOfJob } from '../src/services/events/event-store.js';

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));
let kiln: TestKiln;
let dir: string;

beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
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
    const events = lines.slice(1);
    const stored = await listEventsOfJob(kiln.database.pool, kiln.companyId, jobId);
    expect(events.map((e) => `${e.id}:${e.type}`)).toEqual(stored.map((e) => `${e.id}:${e.type}`));
    expect(events.at(-1)).toMatchObject({ type: 'content_job.done', jobId, payload: { status: 'done' } });

    const job = (await kiln.api('GET', `${jobsPath()}/${jobId}`)).body;
    const primary = job.assets.find((a: any) => a.role === 'primary');
    expect(await sha256(out)).toBe(primary.sha256);

    // The same asset again through `assets get`: into a directory (under its filename), and as metadata.
    const [intoDir, meta] = await Promise.all([
      kilnCli(['assets', 'get', primary.id, '--out', dir]),
      kilnCli(['assets', 'get', primary.id]),
    ]);
    expect(intoDir.code).toBe(0);
    expect(await sha256(path.join(dir, primary.filename))).toBe(primary.sha256);
    expect(meta.code).toBe(0);
    expect(JSON.parse(meta.stdout)).toMatchObject({ id: primary.id, sha256: primary.sha256 });
  });

  it('submit --wait exits 1 when the job fails; server errors exit 1 with their code', async () => {
    const [failed, unknownKind, missingJob] = await Promise.all([
      kilnCli(['submit', 'test-fail', '--input', '-', '--wait'], { stdin: '{"code":"render_failed"}' }),
      kilnCli(['submit', 'no-such-kind', '--input', '-'], { stdin: '{}' }),
      kilnCli(['watch', randomUUID()]),
    ]);
    expect(failed.code).toBe(1);
    expect(jsonLines(failed.stdout).at(-1)).toMatchObject({ type: 'content_job.failed', payload: { error: { code: 'render_failed' } } });
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
    expect(jsonLines(canceled.stdout).at(-1)).toMatchObject({ type: 'content_job.canceled', jobId: canceledId });
    expect(interrupted.code).toBe(130);
    await kiln.api('POST', `${jobsPath()}/${interruptedId}/cancel`);
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

  it('companies ls still works on the database directly', async () => {
    const run = await kilnCli(['companies', 'ls'], { env: { DATABASE_URL: kiln.databaseUrl, KILN_DATA_DIR: dir, KILN_LOG_LEVEL: 'silent' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(kiln.companyId);
  });
});
