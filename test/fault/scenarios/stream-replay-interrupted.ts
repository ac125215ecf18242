import type { KilnCluster } from '../../harness/kiln-cluster.js';
import { pollUntil, requestJson } from '../../harness/http-client.js';
import { connectHarnessClient } from '../../harness/postgres-server.js';
import { JobStreams } from '../../harness/job-streams.js';
import { waitAllTerminal } from '../fault-checks.js';
import { ResultBuilder, type ScenarioResult } from '../scenario-result.js';

/**
 * (c2) The other half of (c): a job stream whose *replay* — the stored events it reads right
 * after its snapshot — loses its database connection. Made deterministic: the harness holds an
 * ACCESS EXCLUSIVE lock on content_job_events, so the stream's replay query waits on it; that
 * backend (recognisable by its `e.job_id = $6` filter) is then terminated and the lock released.
 * A stream already live survives the same fault (c); this one should too — end with its
 * terminal event — instead of closing with nothing but its snapshot.
 */
export async function streamReplayInterrupted(cluster: KilnCluster): Promise<ScenarioResult> {
  const res = new ResultBuilder('c2', 'a job stream loses its connection during its replay');
  res.r.knownBug = 'streamEvents closes a stream whose replay fails (server/src/services/events/event-stream.ts)';
  const streams = new JobStreams();
  const admin = await connectHarnessClient(cluster.databaseUrl);
  let locked = false;
  try {
    const submit = await requestJson(`${cluster.companyBase('api-1')}/content-jobs`, {
      method: 'POST',
      body: { kind: 'test-slow', input: { ms: 50, steps: 1 } },
      timeoutMs: 30_000,
    });
    if (!res.check(submit.status === 202, `job not accepted: ${submit.status}`)) return res.finish();
    const jobId: string = submit.body.jobId;
    res.r.accepted = 1;
    const done = await waitAllTerminal(cluster.databaseUrl, 60_000, [jobId]);
    if (!res.check(done.jobs[0]?.status === 'done', `the job ended ${done.jobs[0]?.status}`)) return res.finish();

    await admin.query('BEGIN');
    await admin.query('LOCK TABLE content_job_events IN ACCESS EXCLUSIVE MODE');
    locked = true;
    const stream = await streams.open(cluster.companyBase('api-2'), jobId);
    const pid = await pollUntil('the stream replay to wait on the lock', 15_000, async () => {
      // pg_stat_activity is read once per transaction; the lock holder must look afresh each time.
      await admin.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'kiln' AND wait_event_type = 'Lock'
           AND query LIKE '%content_job_events%' AND query LIKE '%e.job_id = $6%'`,
      );
      return rows[0]?.pid;
    }, 50);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.query('ROLLBACK');
    locked = false;

    const open = await streams.waitAllEnded(15_000);
    res.r.streamsLeftOpen = open.length;
    const events = stream.messages.map((m) => m.event);
    res.check(
      stream.endedAfterTerminal,
      `the stream of done job ${jobId} ${stream.ended ? 'closed' : 'stayed open'} without its terminal event after its replay query's connection was terminated; it carried only [${events.join(', ')}] (the API logs "event stream failed", 57P01)`,
    );
    res.detail('streamEvents', events);
    res.detail('snapshotStatus', stream.messages[0]?.data?.status);
  } catch (err) {
    res.r.problems.push(`scenario aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    if (locked) await admin.query('ROLLBACK').catch(() => undefined);
    await admin.end().catch(() => undefined);
    streams.closeAll();
  }
  return res.finish();
}
