import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHarnessLeftovers, type KilnCluster } from '../harness/kiln-cluster.js';
import { describeProcs } from '../harness/process-tracker.js';
import { formatReport, SHORT } from './fault-suite.js';
import type { ScenarioResult } from './scenario-result.js';
import { killServerUnderLoad } from './scenarios/kill-server-under-load.js';
import { killWorkerMidEncode } from './scenarios/kill-worker-mid-encode.js';
import { terminateConnections } from './scenarios/terminate-connections.js';
import { databaseOutage } from './scenarios/database-outage.js';
import { streamReplayInterrupted } from './scenarios/stream-replay-interrupted.js';
import { startTwoApisTwoWorkers } from './topologies.js';

/**
 * The fault suite's short form (`npm run chaos` is the long one; both run the same scenario
 * code). Real PostgreSQL of its own, real `kiln` processes, real HTTP on loopback. Each scenario
 * reports what it counted; the test asserts that no promise was broken.
 */
const results: ScenarioResult[] = [];
const expectClean = (r: ScenarioResult) => {
  results.push(r);
  expect(r.problems, JSON.stringify(r.details)).toEqual([]);
  expect(r.lost).toBe(0);
  expect(r.stuck).toBe(0);
  expect(r.runTwice).toBe(0);
};

afterAll(() => {
  console.log(`fault suite (short form)\n${formatReport(results, allHarnessLeftovers().map((p) => describeProcs([p])))}`);
});

describe.sequential('fault suite, short form', () => {
  it('(a) a kiln serve SIGKILLed under 16 clients loses, strands and doubles nothing', async () => {
    expectClean(await killServerUnderLoad(SHORT.killServer));
  }, 150_000);

  describe.sequential('on 2 × kiln serve --no-worker + 2 × kiln worker', () => {
    let cluster: KilnCluster | null = null;
    beforeAll(async () => {
      cluster = await startTwoApisTwoWorkers('scale-out');
    }, 120_000);
    afterAll(async () => {
      await cluster?.cleanup({ keep: results.some((r) => r.problems.length > 0) });
    }, 60_000);

    it('(b) a worker SIGKILLed mid-encode: done exactly once elsewhere, its ffmpeg gone', async () => {
      const r = await killWorkerMidEncode(cluster!, SHORT.killWorker);
      expectClean(r);
      expect(r.survivors).toBe(0);
      expect(r.streamsLeftOpen).toBe(0);
    }, 180_000);

    it('(c) every Kiln connection terminated: streams end, jobs end, none run twice', async () => {
      const r = await terminateConnections(cluster!, SHORT.terminate);
      expectClean(r);
      expect(r.streamsLeftOpen).toBe(0);
    }, 120_000);

    // Found by this suite: a job stream whose replay query lost its connection used to close with
    // only its snapshot. Open streams now retry their reads through an outage.
    it('(c2) a stream whose replay loses its connection still ends with its terminal event', async () => {
      const r = await streamReplayInterrupted(cluster!);
      results.push(r);
      expect(r.problems).toEqual([]);
    }, 120_000);

    it('(d) PostgreSQL stopped for 10 s: 503 with Retry-After meanwhile, then everything recovers', async () => {
      const r = await databaseOutage(cluster!, SHORT.outage);
      expectClean(r);
      expect(r.streamsLeftOpen).toBe(0);
    }, 120_000);

    it('leaves no process behind', async () => {
      const c = cluster!;
      cluster = null;
      const { stragglers, postgresLeft } = await c.cleanup({ keep: results.some((r) => r.problems.length > 0) });
      expect(describeProcs(stragglers)).toBe('');
      expect(postgresLeft).toBe(false);
      expect(describeProcs(allHarnessLeftovers())).toBe('');
    }, 60_000);
  });
});
