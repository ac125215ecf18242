import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

/**
 * A render that crashes natively or runs out of memory costs its own job, never the server or
 * other jobs; inputs whose checks take too long are refused without holding up anyone else.
 */
let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln(
    // A low ceiling so the memory hog is stopped quickly; the validation budget short for the same reason.
    { KILN_RENDER_MEMORY_MB: '400', KILN_VALIDATION_BUDGET_MS: '1500' },
    { rendererModules: [TEST_RENDERERS] },
  );
});
afterAll(() => kiln?.cleanup());

const jobs = () => `/api/companies/${kiln.companyId}/content-jobs`;
async function submit(body: unknown): Promise<string> {
  const res = await kiln.api('POST', jobs(), body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId;
}

/** Polls /api/health while `work` runs; returns the slowest answer seen, in ms. */
async function slowestHealthDuring(work: Promise<unknown>): Promise<{ slowest: number; answers: number }> {
  let done = false;
  void work.finally(() => (done = true));
  let slowest = 0;
  let answers = 0;
  while (!done) {
    const t = performance.now();
    const res = await fetch(`${kiln.url}/api/health`);
    expect(res.status).toBe(200);
    slowest = Math.max(slowest, performance.now() - t);
    answers++;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { slowest, answers };
}

describe('render isolation', () => {
  it('a render process that aborts natively fails only its job (render_crashed after one retry) while a parallel job completes', async () => {
    const good = await submit({ kind: 'test-slow', input: { ms: 1500, steps: 3 } });
    const crash = await submit({ kind: 'test-abort', input: {} });
    const crashed = await waitForJob(kiln, crash);
    expect(crashed.status).toBe('failed');
    expect(crashed.error.code).toBe('render_crashed');
    expect(crashed.error.message).toMatch(/SIGABRT|signal|code/);
    expect(crashed.attempt).toBe(1); // crashes are not retried through the queue
    expect((await waitForJob(kiln, good)).status).toBe('done');
    expect((await kiln.api('GET', '/api/health')).status).toBe(200);
    // The pool replaced the dead processes: an ordinary job still runs.
    const after = await submit({ kind: 'test-slow', input: { ms: 0, steps: 1 } });
    expect((await waitForJob(kiln, after)).status).toBe('done');
  });

  it('a crash on the first try only is survived: the job is rendered again on a fresh process', async () => {
    const marker = path.join(tmpdir(), `kiln-crash-once-${randomUUID()}`);
    const jobId = await submit({ kind: 'test-abort', input: { onlyOnce: true, marker } });
    const job = await waitForJob(kiln, jobId);
    expect(job.status).toBe('done');
    expect(job.assets.filter((a: { role: string }) => a.role === 'primary')).toHaveLength(1);
  });

  it('a render that allocates until it is killed fails its job with render_crashed; the server keeps answering', async () => {
    const good = await submit({ kind: 'test-slow', input: { ms: 2000, steps: 4 } });
    const hog = await submit({ kind: 'test-oom', input: { mbPerStep: 32 } });
    const { slowest } = await slowestHealthDuring(waitForJob(kiln, hog, undefined, 60_000));
    const failed = await waitForJob(kiln, hog);
    expect(failed.status).toBe('failed');
    expect(failed.error.code).toBe('render_crashed');
    expect(failed.error.message).toMatch(/memory limit of 400 MiB|heap/);
    expect((await waitForJob(kiln, good)).status).toBe('done');
    // Generous: the point is that the API was never frozen, not how fast it was.
    expect(slowest).toBeLessThan(1000);
  });
});

describe('checks that parse user content run off the HTTP thread', () => {
  it('an input whose check outlasts the budget is refused as too complex; /api/health answers throughout', async () => {
    const submitting = kiln.api('POST', jobs(), { kind: 'test-slow-check', input: { checkMs: 20_000 } });
    const { slowest, answers } = await slowestHealthDuring(submitting);
    const res = await submitting;
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed' });
    expect(res.body.error.message).toMatch(/too complex/);
    expect(answers).toBeGreaterThan(5);
    console.info(`health during a 20 s check (budget 1.5 s): ${answers} answers, slowest ${slowest.toFixed(1)} ms`);
    expect(slowest).toBeLessThan(1000);
    // The checker that was killed is replaced: a quick check passes again.
    expect((await kiln.api('POST', jobs(), { kind: 'test-slow-check', input: { checkMs: 10 } })).status).toBe(202);
  });

  it('the budget is CPU time: a check that waits without computing passes; one starved past the deadline answers busy, not too complex', async () => {
    // Twice the 1.5 s budget in wall-clock time, next to nothing in CPU time.
    expect((await kiln.api('POST', jobs(), { kind: 'test-slow-check', input: { checkMs: 10, waitMs: 3000 } })).status).toBe(202);
    // Past the wall-clock bound (4 × budget, at least budget + 5 s): the machine's fault, so a 503 to retry.
    const starved = await kiln.api('POST', jobs(), { kind: 'test-slow-check', input: { checkMs: 10, waitMs: 8000 } });
    expect(starved.status).toBe(503);
    expect(starved.body.error.code).toBe('server_busy');
    expect(Number(starved.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('the freeze inputs of the security review are answered without freezing the API', async () => {
    const fields = Array.from({ length: 2000 }, (_, i) => `field_${i}`);
    const chart = kiln.api('POST', jobs(), {
      kind: 'chart',
      input: {
        spec: {
          data: { values: [Object.fromEntries(fields.map((f) => [f, 1]))] },
          repeat: fields,
          spec: { mark: 'bar', encoding: { x: { field: { repeat: 'repeat' }, type: 'quantitative' } } },
        },
      },
    });
    const markdown = kiln.api('POST', jobs(), { kind: 'document', input: { markdown: '*a'.repeat(110_000) } });
    const { slowest, answers } = await slowestHealthDuring(Promise.all([chart, markdown]));
    console.info(`health during the freeze inputs: ${answers} answers, slowest ${slowest.toFixed(1)} ms`);
    for (const res of await Promise.all([chart, markdown])) {
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect(slowest).toBeLessThan(1000);
  });
});
