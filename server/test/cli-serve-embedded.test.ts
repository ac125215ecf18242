import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svgOf } from './support/test-kiln.js';

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));
const procs: ChildProcess[] = [];
let dataDir: string;

/** `kiln serve` exactly as README command 1 runs it: no DATABASE_URL, so embedded PostgreSQL. */
function serve(): Promise<{ child: ChildProcess; url: string; companyId: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_DATA_DIR: dataDir, KILN_PORT: '0', KILN_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [KILN_BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const companyId = /default company ([0-9a-f-]{36})/.exec(out)?.[1];
      if (url && companyId) resolve({ child, url, companyId });
    });
    child.once('exit', (code) => reject(new Error(`kiln serve exited (${code}): ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('kiln serve with embedded PostgreSQL', () => {
  it('starts with nothing configured, runs a job, stops cleanly, and keeps its data across restarts', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kiln-cli-'));
    const first = await serve();
    const ready = await fetch(`${first.url}/api/ready`);
    expect(ready.status).toBe(200);
    const companies = await (await fetch(`${first.url}/api/companies`)).json();
    expect(companies.items.map((c: any) => c.id)).toEqual([first.companyId]);

    const created = await fetch(`${first.url}/api/companies/${first.companyId}/content-jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'image', input: { svg: svgOf('#336699') } }),
    });
    expect(created.status).toBe(202);
    const { jobId } = await created.json();
    let job: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      job = await (await fetch(`${first.url}/api/companies/${first.companyId}/content-jobs/${jobId}`)).json();
    } while (!['done', 'failed', 'canceled'].includes(job.status));
    expect(job.status).toBe('done');

    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    const second = await serve();
    expect(second.companyId).toBe(first.companyId);
    const again = await (await fetch(`${second.url}/api/companies/${second.companyId}/content-jobs/${jobId}`)).json();
    expect(again.status).toBe('done');
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});
