import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { ensureDatabase } from '@kiln/db';
import { loadConfig } from '../../src/config.js';
import { startKiln, type KilnRuntime, type StartOptions } from '../../src/runtime.js';

export interface TestKiln extends KilnRuntime {
  url: string;
  companyId: string;
  dataDir: string;
  databaseUrl: string;
  /** fetch against the server, JSON in and out. */
  api(method: string, pathname: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  cleanup(): Promise<void>;
}

/** A fresh database cloned from the migrated template, on the run's embedded PostgreSQL. */
export async function createTestDatabaseUrl(): Promise<string> {
  const name = `kiln_t_${randomBytes(6).toString('hex')}`;
  return ensureDatabase(inject('pgAdminUrl'), name, inject('pgTemplate'));
}

/**
 * Starts a real Kiln (HTTP on port 0, real PostgreSQL, real disk) with short worker timings.
 */
export async function startTestKiln(
  env: Record<string, string> = {},
  options: StartOptions & { databaseUrl?: string; dataDir?: string } = {},
): Promise<TestKiln> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'kiln-test-data-')));
  const databaseUrl = options.databaseUrl ?? (await createTestDatabaseUrl());
  const config = loadConfig({
    KILN_PORT: '0',
    KILN_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    KILN_LOG_LEVEL: 'silent',
    KILN_WORKER_CONCURRENCY: '2',
    KILN_VALIDATION_PROCESSES: '1',
    ...env,
  });
  const runtime = await startKiln(config, {
    workerTiming: { pollIntervalMs: 500, heartbeatIntervalMs: 500, reapIntervalMs: 250, webhookIntervalMs: 200 },
    shutdownGraceMs: 0,
    ...options,
  });
  const url = runtime.url!;
  return Object.assign(runtime, {
    url,
    companyId: runtime.defaultCompanyId!,
    dataDir,
    databaseUrl,
    async api(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(url + pathname, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
    async cleanup() {
      await runtime.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
}

export const svgOf = (fill: string, w = 64, h = 32) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="${fill}"/></svg>`;

/** Polls GET job until `done(job)` holds (tests assert on states, never on how long they took). */
export async function waitForJob(kiln: TestKiln, jobId: string, until: (job: any) => boolean = isTerminal, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await kiln.api('GET', `/api/companies/${kiln.companyId}/content-jobs/${jobId}`);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const isTerminal = (job: any) => ['done', 'failed', 'canceled'].includes(job?.status);
