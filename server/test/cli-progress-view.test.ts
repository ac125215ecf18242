import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { JobEvent, JobView } from '@kiln/shared';
import { createJobProgressView, progressBarView } from '../src/cli/job-progress-view.js';
import type { CliOutput } from '../src/cli/cli-command.js';

/** A terminal-like stream that records what was written. */
function fakeTerminal(isTTY: boolean) {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as CliOutput;
  out.isTTY = isTTY;
  out.columns = 100;
  return { out, text: () => chunks.join('') };
}

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(t0 + ms).toISOString();
const job = (over: Partial<JobView>): JobView => ({
  id: 'job-1', companyId: 'c', kind: 'test-slow', status: 'queued', progress: 0, stage: null, attempt: 0, maxAttempts: 3,
  priority: 0, timeoutMs: 1000, input: {}, sourceTaskId: null, error: null, warnings: [], output: null, outputs: [], assets: [], inputAssetIds: [], outputName: null, cancelRequested: false, queuePosition: null, estimatedStartAt: null,
  createdAt: iso(0), startedAt: null, finishedAt: null, updatedAt: iso(0), ...over,
});
const event = (id: string, type: JobEvent['type'], at: number, payload: Partial<JobEvent['payload']>): JobEvent => ({
  id, companyId: 'c', jobId: 'job-1', type, createdAt: iso(at), payload: { jobId: 'job-1', status: 'running', ...payload },
});

describe('kiln progress bar (TTY)', () => {
  it('redraws one line in place with stage, percentage and elapsed time, then prints the outcome', () => {
    const term = fakeTerminal(true);
    let now = t0 + 1500;
    const view = progressBarView(term.out, () => now, 'http://kiln.test:3100');
    view.onItem({ type: 'snapshot', job: job({ status: 'running', updatedAt: iso(500), attempt: 1 }) });
    // Replayed from before the snapshot: must not flash the bar back to "queued".
    view.onItem(event('1', 'content_job.queued', 0, { status: 'queued' }));
    view.onItem(event('3', 'content_job.progress', 2000, { progress: 0.5, stage: 'step-2' }));
    now = t0 + 2600;
    view.onItem(event('4', 'content_job.progress', 2600, { progress: 0.75, stage: 'step-3' }));
    const primary = { id: 'a-1', companyId: 'c', jobId: 'job-1', derivedFrom: [], sourceTaskId: null, role: 'primary' as const, contentType: 'text/plain', byteSize: 14, sha256: 'x', filename: 'slow.txt', metadata: {}, url: '/x', createdAt: iso(3200) };
    view.finish(job({ status: 'done', progress: 1, stage: 'done', finishedAt: iso(3200), assets: [primary], output: primary }));

    const redraws = term.text().split('\r').filter(Boolean);
    expect(redraws.every((r) => r.startsWith('\x1b[K'))).toBe(true);
    expect(redraws.some((r) => r.includes('queued'))).toBe(false);
    expect(redraws[0]).toMatch(/ 0%\s+running\s+1\.5s/);
    expect(redraws.find((r) => r.includes('step-2'))).toMatch(/50%\s+running · step-2/);
    expect(redraws.find((r) => r.includes('step-3'))).toMatch(/75%.*2\.6s/);
    const last = redraws.at(-1)!;
    expect(last).toMatch(/100%\s+done/);
    expect(last).toContain('3.2s');
    expect(last).toContain('done in 3.2s: job job-1\n');
    expect(last).toContain('primary a-1  text/plain  14 B  slow.txt');
    // The server's relative URL, shown against the server the CLI talks to.
    expect(last).toContain('output  http://kiln.test:3100/x');
  });

  it('prints JSON lines when the output is not a terminal, ending with the finished job', () => {
    const term = fakeTerminal(false);
    const view = createJobProgressView(term.out, { json: false });
    const e = event('3', 'content_job.progress', 10, { progress: 0.5 });
    view.onItem({ type: 'snapshot', job: job({}) });
    view.onItem(e);
    view.finish(job({ status: 'done' }));
    const lines = term.text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ type: 'snapshot', job: job({}) }, e, { type: 'result', job: job({ status: 'done' }) }]);
  });
});
