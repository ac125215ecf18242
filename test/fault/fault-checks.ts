import { existsSync, readFileSync, statSync } from 'node:fs';
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

/**
 * Like waitAllTerminal for a queue with a backlog: waits while jobs keep ending, and gives up
 * only when none has ended for `stallMs` (the jobs left then are stuck, not merely waiting their
 * turn) or after `maxMs` in all.
 */
export async function waitQueueDrained(dbUrl: string, stallMs: number, maxMs: number): Promise<{ jobs: JobFact[]; ms: number; stalled: boolean }> {
  const start = Date.now();
  let lastEnded = -1;
  let lastChange = start;
  for (;;) {
    const jobs = await readJobs(dbUrl);
    const ended = jobs.filter((j) => TERMINAL.includes(j.status)).length;
    const now = Date.now();
    if (ended !== lastEnded) {
      lastEnded = ended;
      lastChange = now;
    }
    if (ended === jobs.length) return { jobs, ms: now - start, stalled: false };
    if (now - lastChange > stallMs || now - start > maxMs) return { jobs, ms: now - start, stalled: now - lastChange > stallMs };
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface EventFacts {
  /**
   * Jobs claimed while already running: a `content_job.running` event with no `retrying` since
   * the previous one — two workers were handed the same job at once.
   */
  runTwiceByEvents: string[];
  /**
   * Jobs with more than one `content_job.running` event carrying the same attempt number. Not by
   * itself a double run: a job that loses its worker a second time gets that attempt back
   * (decideSettlement), so its next claim repeats the number after a `retrying`.
   */
  sameAttemptRunning: string[];
  /** Terminal jobs whose number of terminal events is not exactly one. */
  wrongTerminalEventCount: { jobId: string; n: number }[];
  /** Jobs that went back to the queue at least once, by the error code of their retry. */
  retriedBy: Record<string, number>;
}

export async function readEventFacts(dbUrl: string, ids?: string[]): Promise<EventFacts> {
  const filter = ids ? 'AND job_id = ANY($1::uuid[])' : '';
  const values = ids ? [ids] : [];
  const lifecycle = await harnessQuery<{ jobId: string; type: string; attempt: string | null }>(
    dbUrl,
    `SELECT job_id AS "jobId", type, payload->>'attempt' AS attempt FROM content_job_events
     WHERE type IN ('content_job.running', 'content_job.retrying') ${filter}
     ORDER BY id`, // one job's transitions are serialised by its row lock: its event ids follow commit order
    values,
  );
  const running = new Set<string>();
  const claimedWhileRunning = new Set<string>();
  const attemptsSeen = new Map<string, Set<string | null>>();
  const sameAttempt = new Set<string>();
  for (const e of lifecycle) {
    if (e.type === 'content_job.retrying') {
      running.delete(e.jobId);
      continue;
    }
    if (running.has(e.jobId)) claimedWhileRunning.add(e.jobId);
    running.add(e.jobId);
    const seen = attemptsSeen.get(e.jobId) ?? new Set();
    if (seen.has(e.attempt)) sameAttempt.add(e.jobId);
    seen.add(e.attempt);
    attemptsSeen.set(e.jobId, seen);
  }
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
    runTwiceByEvents: [...claimedWhileRunning],
    sameAttemptRunning: [...sameAttempt],
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
  /** Their modification times (ms since the epoch), by key. */
  orphanMtimes: Map<string, number>;
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
  const orphans = files.filter((f) => !keys.has(f));
  return {
    files: files.length,
    orphans,
    orphanMtimes: new Map(orphans.map((f) => [f, statSync(path.join(root, f)).mtimeMs])),
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
