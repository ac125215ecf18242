import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestKiln } from './test-kiln.js';

const KILN_BIN = fileURLToPath(new URL('../../bin/kiln.mjs', import.meta.url));

/**
 * A real `kiln worker` process on the same database and data directory as the API under test,
 * resolved once it says it is running (so a SIGKILL afterwards hits a worker that claims). Its
 * output goes to `output` when given, and into the error when it exits before that; the child
 * is added to `children` at once, so the test's cleanup kills it even if it never got ready.
 */
export function startWorkerProcess(api: TestKiln, env: Record<string, string>, children: ChildProcess[], output: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [KILN_BIN, 'worker'], {
    env: { ...process.env, DATABASE_URL: api.databaseUrl, KILN_DATA_DIR: api.dataDir, KILN_WORKER_CONCURRENCY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stderr!.on('data', (d) => output.push(String(d)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output.push(String(d));
      if (/kiln: worker \S+ running/.test(String(d))) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${output.join('')}`)));
  });
}
