import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchServer {
  url: string;
  companyId: string;
  stop(): Promise<void>;
}

/**
 * A throwaway `kiln serve` child process (embedded PostgreSQL, temp data dir), so the load
 * generator and the server don't share an event loop. Resolves once it prints its URL.
 * `nodeArgs` go to that node (e.g. `--cpu-prof --cpu-prof-dir DIR` to profile the server).
 */
export async function startBenchServer(env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kiln-bench-'));
  const bin = fileURLToPath(new URL('../server/bin/kiln.mjs', import.meta.url));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KILN_DATA_DIR: dataDir, KILN_PORT: '0', KILN_LOG_LEVEL: 'warn' };
  // An embedded PostgreSQL of its own unless the caller names one.
  delete childEnv.DATABASE_URL;
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, [...nodeArgs, bin, 'serve', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const { url, companyId } = await new Promise<{ url: string; companyId: string }>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const u = /listening on (\S+)/.exec(out)?.[1];
      const c = /default company (\S+)/.exec(out)?.[1];
      if (u && c) resolve({ url: u, companyId: c });
    });
    child.once('exit', (code) => reject(new Error(`kiln serve exited ${code}`)));
  });
  return {
    url,
    companyId,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
