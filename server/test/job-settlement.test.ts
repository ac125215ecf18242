import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, type JobStatus } from '@kiln/shared';
import { decideCancelRequest, decideSettlement, MAX_FREE_RETRIES, MAX_LOST_ATTEMPTS, type SettleCause, type SettleState } from '../src/services/jobs/job-lifecycle.js';

/**
 * The decision table, as a table: every state × every cause. What a failure, a lost worker, a
 * shutdown and a cancel do is decided in one function; these rows are its specification.
 */
const CAUSES: Record<string, SettleCause> = {
  canceled: { kind: 'canceled' },
  'failed (retryable)': { kind: 'failed', error: { code: 'render_failed', message: 'boom' }, retryable: true },
  'failed (final)': { kind: 'failed', error: { code: 'validation_failed', message: 'bad input' }, retryable: false },
  render_crashed: { kind: 'failed', error: { code: 'render_crashed', message: 'SIGABRT' }, retryable: false },
  'throttled (429)': { kind: 'failed', error: { code: 'provider_throttled', message: 'slow down' }, retryable: true, retryAfterMs: 7000, freeRetry: true },
  timeout: { kind: 'timeout', timeoutMs: 1000 },
  worker_lost: { kind: 'worker_lost' },
  shutdown: { kind: 'shutdown' },
};

const state = (over: Partial<SettleState> = {}): SettleState => ({
  status: 'running', attempt: 1, maxAttempts: 3, lostAttempts: 0, cancelRequested: false, ...over,
});
const fixedRandom = () => 0.5;

describe('decideSettlement: every state × every cause', () => {
  // Only a running job can be settled; anything else is somebody else's (or already over).
  for (const status of JOB_STATUSES.filter((s) => s !== 'running')) {
    for (const [name, cause] of Object.entries(CAUSES)) {
      it(`${status} × ${name} → nothing`, () => {
        expect(decideSettlement(state({ status: status as JobStatus }), cause)).toBeNull();
      });
    }
  }

  // running: [cause, attempt/max, expected outcome]
  const rows: [string, Partial<SettleState>, Partial<ReturnType<typeof decideSettlement> & object>][] = [
    ['canceled', {}, { to: 'canceled', event: 'content_job.canceled', error: { code: 'canceled', message: 'Canceled on request.' } }],
    ['failed (retryable)', { attempt: 1 }, { to: 'queued', event: 'content_job.retrying', runAt: { delayMs: 750 }, attemptDelta: 0 }],
    ['failed (retryable)', { attempt: 3 }, { to: 'failed', event: 'content_job.failed', error: { code: 'render_failed', message: 'boom' } }],
    ['failed (final)', { attempt: 1 }, { to: 'failed', error: { code: 'validation_failed', message: 'bad input' } }],
    ['render_crashed', { attempt: 1 }, { to: 'failed', error: { code: 'render_crashed', message: 'SIGABRT' } }],
    ['timeout', { attempt: 1 }, { to: 'failed', error: { code: 'timeout', message: 'The job ran longer than its timeout of 1000 ms.' } }],
    // A lost worker: back to the queue in the same place; the first loss counts as an attempt…
    ['worker_lost', { attempt: 1, lostAttempts: 0 }, { to: 'queued', runAt: 'keep', attemptDelta: 0, lostDelta: 1 }],
    // …later losses do not (an outage or a crash loop elsewhere is not the job's fault)…
    ['worker_lost', { attempt: 3, lostAttempts: 1 }, { to: 'queued', runAt: 'keep', attemptDelta: -1, lostDelta: 1 }],
    // …unless the first loss used the last attempt…
    ['worker_lost', { attempt: 3, maxAttempts: 3, lostAttempts: 0 }, { to: 'failed', error: { code: 'worker_lost', message: 'The worker running this job stopped before it finished.' } }],
    // …or the job keeps killing workers.
    ['worker_lost', { attempt: 1, lostAttempts: MAX_LOST_ATTEMPTS }, { to: 'failed', lostDelta: 1 }],
    // A remote API that asks us to wait: retried after its Retry-After, the attempt given back…
    ['throttled (429)', { attempt: 3 }, { to: 'queued', runAt: { delayMs: 7000 }, attemptDelta: -1, throttledDelta: 1 }],
    // …until free retries run out; then it is an ordinary retryable failure.
    ['throttled (429)', { attempt: 1, throttledRetries: MAX_FREE_RETRIES }, { to: 'queued', runAt: { delayMs: 7000 }, attemptDelta: 0 }],
    ['throttled (429)', { attempt: 3, throttledRetries: MAX_FREE_RETRIES }, { to: 'failed', error: { code: 'provider_throttled', message: 'slow down' } }],
    // A shutdown gives the attempt back and keeps the job's place.
    ['shutdown', { attempt: 2 }, { to: 'queued', runAt: 'keep', attemptDelta: -1, error: null }],
  ];
  for (const [name, over, expected] of rows) {
    it(`running (${JSON.stringify(over)}) × ${name} → ${expected.to}`, () => {
      expect(decideSettlement(state(over), CAUSES[name]!, fixedRandom)).toMatchObject(expected);
    });
  }

  // A cancel request wins over every cause: such a job never goes back to the queue, where the
  // claim would leave it forever.
  for (const [name, cause] of Object.entries(CAUSES)) {
    it(`running with a cancel request × ${name} → canceled`, () => {
      expect(decideSettlement(state({ cancelRequested: true }), cause)).toMatchObject({ to: 'canceled', event: 'content_job.canceled' });
    });
  }

  it('every running row is covered: no cause leaves a running job running', () => {
    for (const cause of Object.values(CAUSES)) {
      for (const over of [{}, { attempt: 3 }, { lostAttempts: 2 }, { cancelRequested: true }]) {
        const s = decideSettlement(state(over), cause);
        expect(s, JSON.stringify({ cause, over })).not.toBeNull();
        expect(['queued', 'failed', 'canceled']).toContain(s!.to);
      }
    }
  });
});

describe('decideCancelRequest', () => {
  it.each([
    ['queued', 'cancel_now'],
    ['running', 'flag_running'],
    ['done', 'not_cancelable'],
    ['failed', 'not_cancelable'],
    ['canceled', 'not_cancelable'],
  ] as const)('%s → %s', (status, expected) => {
    expect(decideCancelRequest(status)).toBe(expected);
  });
});
