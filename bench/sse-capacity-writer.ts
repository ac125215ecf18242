/**
 * The event writer of bench/sse-capacity.ts, in a process of its own (so the stream readers'
 * work never delays a write): one PostgreSQL connection, `appendJobEvent` — the lifecycle's own
 * statement (event row + pg_notify in one autocommitted transaction) — at a steady rate, event i
 * at start + i / rate. For every event it sends its parent `[seq, sentAt, ackAt]`: sentAt just
 * before the statement goes out, ackAt when PostgreSQL's answer (after the commit) is back, both
 * as performance.timeOrigin + performance.now() (wall-clock milliseconds, sub-millisecond
 * resolution, comparable between processes of one machine).
 *
 * argv: <database url> <rate per s> <seconds> <json: [[companyId, jobId], …]>
 */
import pg from 'pg';
import { appendJobEvent } from '../server/src/services/jobs/job-lifecycle.js';

const [url, rateArg, secondsArg, targetsJson] = process.argv.slice(2);
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const targets = JSON.parse(targetsJson!) as [string, string][];
const now = () => performance.timeOrigin + performance.now();

// application_name must start with `kiln`: the event horizon only waits for Kiln's own open
// transactions, so a writer named otherwise could have its events passed over by the readers.
const client = new pg.Client({ connectionString: url, application_name: 'kiln-bench-writer' });
await client.connect();
const start = now() + 200;
let late = 0;
for (let seq = 0; seq < total; seq++) {
  const due = start + (seq * 1000) / rate;
  const wait = due - now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  else if (wait < -5) late++;
  const [companyId, jobId] = targets[seq % targets.length]!;
  const sentAt = now();
  await appendJobEvent(client, {
    companyId,
    jobId,
    type: 'content_job.progress',
    payload: { status: 'queued', progress: 0, stage: 'bench', seq },
  });
  process.send!([seq, sentAt, now()]);
}
await client.end();
process.send!({ done: true, total, late, seconds: (now() - start) / 1000 });
process.disconnect();
