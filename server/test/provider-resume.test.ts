import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { startWorkerProcess } from './support/worker-process.js';
import { startOpenAiTestServer, type OpenAiTestServer } from '../../test/harness/openai-test-server.js';

/**
 * A remote video job inside a Kiln job survives its worker: a real `kiln worker` process is
 * SIGKILLed while it polls, and the attempt another worker retries resumes the same remote id
 * from the checkpoint — the provider sees exactly one creation. The workers log at debug level
 * and their stdout and stderr are kept, to check the API key is in none of it.
 */
const KEY = 'sk-resume-test-9f8e7d6c5b4a-SECRET';
const POLLS = 40;

let server: OpenAiTestServer;
let api: TestKiln;
let providers: string;
const children: ChildProcess[] = [];
const output: string[] = [];

const startWorker = () => startWorkerProcess(api, { KILN_LOG_LEVEL: 'debug', KILN_PROVIDERS: providers, KILN_TEST_VIDEO_KEY: KEY }, children, output);

beforeAll(async () => {
  server = await startOpenAiTestServer({ apiKey: KEY, videoPolls: POLLS });
  providers = JSON.stringify([
    { name: 'video-lab', type: 'openai', baseUrl: server.baseUrl(), apiKeyEnv: 'KILN_TEST_VIDEO_KEY', models: { 'ai-video': 'sora-2' }, pollIntervalMs: 100 },
  ]);
  // API only: the jobs here are run by the child worker processes.
  api = await startTestKiln({ KILN_PROVIDERS: providers, KILN_TEST_VIDEO_KEY: KEY }, { worker: false });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await api?.cleanup();
  await server?.close();
});

describe('an ai-video job whose worker is SIGKILLed while it polls', () => {
  it('resumes the same remote job on the retried attempt: one creation, and the key in no log line', async () => {
    const first = await startWorker();
    const { body } = await api.api('POST', `/api/companies/${api.companyId}/content-jobs`, {
      kind: 'ai-video',
      input: { prompt: 'a lighthouse in a storm', seconds: 1, size: '160x90' },
    });
    const jobId = body.jobId as string;
    // Polling, with the remote id checkpointed and some of the remote progress reported.
    await waitForJob(api, jobId, (j) => j.status === 'running' && j.progress > 0.1 && server.requestsTo('GET /v1/videos/{id}').length >= 8);
    const pollsBefore = server.requestsTo('GET /v1/videos/{id}').length;
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    await startWorker();
    const job = await waitForJob(api, jobId, undefined, 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    expect(job.attempt).toBe(2);

    // One remote job, created once, polled by both attempts to its end, downloaded once.
    expect(server.creations.videos).toBe(1);
    const [video] = [...server.videos.values()];
    const polled = new Set(server.requestsTo('GET /v1/videos/{id}').map((r) => r.path));
    expect([...polled]).toEqual([`/v1/videos/${video!.id}`]);
    expect(video!.polls).toBe(POLLS);
    expect(pollsBefore).toBeLessThan(POLLS);
    expect(server.requestsTo('GET /v1/videos/{id}/content')).toHaveLength(1);
    expect(server.requestsTo('DELETE /v1/videos/{id}')).toHaveLength(0);
    expect(job.output.metadata).toMatchObject({ provider: 'video-lab', remoteId: video!.id });

    const events = (await api.database.pool.query(`SELECT type, payload FROM content_job_events WHERE job_id = $1 ORDER BY id`, [jobId])).rows;
    expect(events.find((e) => e.type === 'content_job.retrying')?.payload.error.code).toBe('worker_lost');

    // The workers said plenty (debug level), and never the key.
    const logs = output.join('');
    expect(logs).toContain(`resuming remote video ${video!.id}`);
    expect(logs).not.toContain(KEY);
    const rows = await api.database.pool.query(`SELECT (SELECT json_agg(j) FROM content_jobs j)::text || (SELECT json_agg(e) FROM content_job_events e)::text AS all`);
    expect(rows.rows[0].all).not.toContain(KEY);
  });
});
