import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { filesUnder } from '../../server/test/support/files-under.js';
import { harnessQuery } from '../harness/postgres-server.js';
import type { LedgerLine } from '../harness/fault-renderers.js';

/**
 * The invariants every fault scenario checks afterwards, read straight from PostgreSQL, the
 * storage directory and the fault-probe ledger — never from Kiln's own API, which is under test.
 */

export const TERMINAL = ['done', 'failed', 'canceled'];

export interface JobFact {
  id: string;
  status: string;
  attempt: number;
  lostAttempts: number;
  errorCode: string | null;
  idempotencyKey: string | null;
  kind: string;
}

export async function readJobs(dbUrl: string, ids?: string[]): Promise<JobFact[]> {
  return harnessQuery<JobFact>(
    dbUrl,
    `SELECT id, status, attempt, lost_attempts AS "lostAttempts", error_code AS "errorCode",
            idempotency_key AS "idempotencyKey", kind
     FROM content_jobs ${ids ? 'WHERE id = ANY($1::uuid[])' : ''}`,
    ids ? [ids] : [],
  );
}

/** Waits until every job (of `ids`, or all) is terminal or `timeoutMs` passes; returns the jobs as last read. */
export async function waitAllTerminal(dbUrl: string, timeoutMs: number, ids?: string[]): Promise<{ jobs: JobFact[]; ms: number }> {
  const start = Date.now();
  for (;;) {
    const jobs = await readJobs(dbUrl, ids);
    if (jobs.every((j) => TERMINAL.includes(j.status)) || Date.now() - start > timeoutMs) return { jobs, ms: Date.now() - start };
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface EventFacts {
  /** Jobs with more than one `content_job.running` event for the same attempt. */
  runTwiceByEvents: string[];
  /** Terminal jobs whose number of terminal events is not exactly one. */
  wrongTerminalEventCount: { jobId: string; n: number }[];
  /** Jobs that went back to the queue at least once, by the error code of their retry. */
  retriedBy: Record<string, number>;
}

export async function readEventFacts(dbUrl: string, ids?: string[]): Promise<EventFacts> {
  const filter = ids ? 'AND job_id = ANY($1::uuid[])' : '';
  const values = ids ? [ids] : [];
  const twice = await harnessQuery<{ jobId: string }>(
    dbUrl,
    `SELECT job_id AS "jobId" FROM content_job_events WHERE type = 'content_job.running' ${filter}
     GROUP BY job_id, payload->>'attempt' HAVING count(*) > 1`,
    values,
  );
  const terminal = await harnessQuery<{ jobId: string; n: number }>(
    dbUrl,
    `SELECT j.id AS "jobId", count(e.id)::int AS n FROM content_jobs j
     LEFT JOIN content_job_events e ON e.job_id = j.id AND e.type IN ('content_job.done', 'content_job.failed', 'content_job.canceled')
     WHERE j.status IN ('done', 'failed', 'canceled') ${ids ? 'AND j.id = ANY($1::uuid[])' : ''}
     GROUP BY j.id HAVING count(e.id) <> 1`,
    values,
  );
  const retried = await harnessQuery<{ code: string; n: number }>(
    dbUrl,
    `SELECT coalesce(payload->'error'->>'code', payload->>'reason', '?') AS code, count(DISTINCT job_id)::int AS n
     FROM content_job_events WHERE type = 'content_job.retrying' ${filter} GROUP BY 1`,
    values,
  );
  return {
    runTwiceByEvents: [...new Set(twice.map((r) => r.jobId))],
    wrongTerminalEventCount: terminal,
    retriedBy: Object.fromEntries(retried.map((r) => [r.code, r.n])),
  };
}

/** Done jobs that do not have exactly one primary asset. */
export async function doneJobsWithoutOnePrimary(dbUrl: string, ids?: string[]): Promise<{ jobId: string; primaries: number }[]> {
  return harnessQuery(
    dbUrl,
    `SELECT j.id AS "jobId", count(a.id) FILTER (WHERE a.role = 'primary')::int AS primaries
     FROM content_jobs j LEFT JOIN assets a ON a.source_job_id = j.id
     WHERE j.status = 'done' ${ids ? 'AND j.id = ANY($1::uuid[])' : ''}
     GROUP BY j.id HAVING count(a.id) FILTER (WHERE a.role = 'primary') <> 1`,
    ids ? [ids] : [],
  );
}

export interface StorageFacts {
  files: number;
  /** Finished files under storage/ with no asset row. */
  orphans: string[];
  /** Upload temp files left under storage/.partial (a crash mid-write; the sweeper's to remove). */
  partials: number;
  /** Asset rows whose file is not on disk. */
  missingFiles: string[];
}

/** Compares `<dataDir>/storage` with the asset rows (local storage provider). */
export async function readStorageFacts(dbUrl: string, dataDir: string): Promise<StorageFacts> {
  const root = path.join(dataDir, 'storage');
  const all = (await filesUnder(root)).map((f) => path.relative(root, f));
  const partials = all.filter((f) => f.startsWith('.partial/'));
  const files = all.filter((f) => !f.startsWith('.partial/'));
  const keys = new Set((await harnessQuery<{ k: string }>(dbUrl, `SELECT object_key AS k FROM assets WHERE provider = 'local'`)).map((r) => r.k));
  return {
    files: files.length,
    orphans: files.filter((f) => !keys.has(f)),
    partials: partials.length,
    missingFiles: [...keys].filter((k) => !existsSync(path.join(root, k))),
  };
}

export interface LedgerFacts {
  renders: number;
  /** Tokens rendered to completion more than once. */
  completedTwice: string[];
  /** Tokens with two renders alive at the same time (an earlier one ended after a later one started). */
  overlapping: string[];
  /** Tokens whose render count is above one. */
  renderedMoreThanOnce: string[];
}

/**
 * What the fault-probe renders of each token did. A render with no end line died with its render
 * process; it counts as ended when the next render of the token started only if `diedBefore`
 * says its process was gone by then (the scenarios know which processes they killed, and when).
 */
export function readLedger(file: string, diedBefore: (pid: number, at: number) => boolean = () => false): LedgerFacts {
  const lines: LedgerLine[] = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LedgerLine)
    : [];
  const byToken = new Map<string, LedgerLine[]>();
  for (const l of lines) byToken.set(l.token, [...(byToken.get(l.token) ?? []), l]);
  const facts: LedgerFacts = { renders: 0, completedTwice: [], overlapping: [], renderedMoreThanOnce: [] };
  for (const [token, ls] of byToken) {
    // One render = one start line, matched with the next end line from the same render process.
    const renders = ls.filter((l) => l.what === 'start').map((s) => ({
      start: s.at,
      pid: s.pid,
      end: ls.find((e) => e.what !== 'start' && e.pid === s.pid && e.at >= s.at)?.at ?? null,
      completed: ls.some((e) => e.what === 'completed' && e.pid === s.pid && e.at >= s.at),
    }));
    facts.renders += renders.length;
    if (renders.length > 1) facts.renderedMoreThanOnce.push(token);
    if (renders.filter((r) => r.completed).length > 1) facts.completedTwice.push(token);
    renders.sort((a, b) => a.start - b.start);
    for (let i = 1; i < renders.length; i++) {
      const prev = renders[i - 1]!;
      const cur = renders[i]!;
      const prevOver = prev.end !== null ? prev.end <= cur.start : diedBefore(prev.pid, cur.start);
      if (!prevOver) {
        facts.overlapping.push(token);
        break;
      }
    }
  }
  return facts;
}
