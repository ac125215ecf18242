import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createKilnClient } from '@kiln/client';
import { probeMedia } from '../../packages/renderers/src/media/probe-media.js';
import { classifyAddress } from '../src/services/webhooks/ip-address-class.js';
import { startTestKiln, svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';
import { answers, startOpenAiTestServer, type OpenAiTestServer } from '../../test/harness/openai-test-server.js';

/**
 * The AI kinds against a real server speaking the OpenAI-compatible protocol on loopback: every
 * answer a provider can give mapped to the job outcome it must become, the three kinds end to end
 * through the API with their outputs decoded, cancel and timeout reaching the remote job, and the
 * API key nowhere but in the Authorization header.
 */
const KEY = 'sk-test-0123456789-SECRET-provider-key';
const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));

let server: OpenAiTestServer;
let kiln: TestKiln;
let scratch: string;

beforeAll(async () => {
  server = await startOpenAiTestServer({ apiKey: KEY, videoPolls: 20 });
  scratch = await mkdtemp(path.join(tmpdir(), 'kiln-providers-'));
  const providers = [
    {
      name: 'main',
      type: 'openai',
      baseUrl: server.baseUrl(),
      apiKeyEnv: 'KILN_TEST_PROVIDER_KEY',
      models: { 'ai-image': 'gpt-image-1', 'ai-speech': 'gpt-4o-mini-tts', 'ai-video': 'sora-2' },
      maxConcurrent: 2,
      pollIntervalMs: 20,
    },
    // No models: every kind, and `model` left out of the requests.
    { name: 'backup', type: 'openai', baseUrl: server.baseUrl('/backup'), apiKeyEnv: 'KILN_TEST_PROVIDER_KEY', pollIntervalMs: 20 },
  ];
  // As a file, the way an operator keeps a longer list.
  const file = path.join(scratch, 'providers.json');
  await writeFile(file, JSON.stringify(providers));
  kiln = await startTestKiln(
    { KILN_PROVIDERS: file, KILN_TEST_PROVIDER_KEY: KEY },
    {
      // A provider's image URL on another origin: "images.example.test" resolves to loopback, which
      // counts as public here so the download can be tested without leaving the machine.
      providers: {
        resolve: async (host) => (host === 'images.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
        classify: (address) => (address === '127.0.0.1' ? 'public' : classifyAddress(address)),
      },
    },
  );
});
afterAll(async () => {
  await kiln?.cleanup();
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset();
  server.settings.imageAnswer = 'b64_json';
  server.settings.urlBase = undefined;
  server.settings.videoPolls = 20;
});

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await kiln.api('POST', jobsPath(), body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.jobId;
}
const finish = async (body: Record<string, unknown>, timeoutMs = 30_000) => waitForJob(kiln, await submit(body), undefined, timeoutMs);
const bytesOf = async (asset: { url: string }) => Buffer.from(await (await fetch(kiln.url + asset.url)).arrayBuffer());
async function probeBytes(bytes: Buffer, name: string) {
  const file = path.join(scratch, name);
  await writeFile(file, bytes);
  return probeMedia(file);
}
const eventsOf = async (jobId: string) =>
  (await kiln.database.pool.query(`SELECT type, payload FROM content_job_events WHERE job_id = $1 ORDER BY id`, [jobId])).rows as { type: string; payload: any }[];

describe('the three kinds, end to end through the API', () => {
  it('ai-image: n images as primaries with WebP previews, decoded; metadata has provider, model, request id and usage', async () => {
    const job = await finish({ kind: 'ai-image', input: { prompt: 'a lighthouse', size: '96x64', n: 2 } });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    const primaries = job.assets.filter((a: any) => a.role === 'primary');
    const previews = job.assets.filter((a: any) => a.role === 'preview');
    expect(primaries).toHaveLength(2);
    expect(previews).toHaveLength(2);
    for (const p of primaries) {
      const meta = await sharp(await bytesOf(p)).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 96, height: 64 });
      expect(p.metadata).toMatchObject({ provider: 'main', model: 'gpt-image-1', requestId: expect.stringMatching(/^req_/), usage: { total_tokens: 200 }, width: 96, height: 64 });
    }
    for (const p of previews) expect((await sharp(await bytesOf(p)).metadata()).format).toBe('webp');
    const [request] = server.requestsTo('POST /v1/images/generations');
    expect(request!.body).toEqual({ model: 'gpt-image-1', prompt: 'a lighthouse', n: 2, size: '96x64' });
    expect(request!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('ai-speech: streamed audio stored as it came, measured and given a waveform in a render process', async () => {
    const job = await finish({ kind: 'ai-speech', input: { text: 'Hello there.', voice: 'nova', format: 'wav' } });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    const primary = job.assets.find((a: any) => a.role === 'primary');
    const info = await probeBytes(await bytesOf(primary), 'speech.wav');
    expect(info.streams[0]).toMatchObject({ codecType: 'audio', codecName: 'pcm_s16le', sampleRate: 24000 });
    expect(primary.contentType).toBe('audio/wav');
    expect(primary.metadata).toMatchObject({ provider: 'main', model: 'gpt-4o-mini-tts', voice: 'nova', requestId: expect.any(String), sampleRate: 24000 });
    expect(primary.metadata.durationMs).toBeGreaterThan(900);
    const preview = job.assets.find((a: any) => a.role === 'preview');
    expect((await sharp(await bytesOf(preview)).metadata()).format).toBe('png');
    expect(server.requestsTo('POST /v1/audio/speech')[0]!.body).toEqual({ model: 'gpt-4o-mini-tts', input: 'Hello there.', voice: 'nova', response_format: 'wav' });
  });

  it('ai-video: created once, polled with the remote progress as the job\'s, downloaded as MP4 with a poster', async () => {
    const created = server.creations.videos;
    const job = await finish({ kind: 'ai-video', input: { prompt: 'a paper boat', seconds: 2, size: '320x180' } });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    expect(job.timeoutMs).toBe(30 * 60_000);
    expect(server.creations.videos - created).toBe(1);
    expect(server.requestsTo('GET /v1/videos/{id}')).toHaveLength(20);
    const primary = job.assets.find((a: any) => a.role === 'primary');
    const info = await probeBytes(await bytesOf(primary), 'video.mp4');
    expect(info.streams.find((s) => s.codecType === 'video')).toMatchObject({ codecName: 'h264', width: 320, height: 180 });
    expect(primary.metadata).toMatchObject({ provider: 'main', model: 'sora-2', remoteId: expect.stringMatching(/^video_/), width: 320, height: 180 });
    const poster = job.assets.find((a: any) => a.role === 'preview');
    expect((await sharp(await bytesOf(poster)).metadata()).format).toBe('webp');
    const progress = (await eventsOf(job.id)).filter((e) => e.type === 'content_job.progress');
    expect(progress.some((e) => e.payload.checkpoint)).toBe(true);
    const fractions = progress.map((e) => e.payload.progress).filter((p) => typeof p === 'number');
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });
});

describe('providers and models', () => {
  it('a job may name another configured provider; without configured models, `model` is left out', async () => {
    const job = await finish({ kind: 'ai-image', input: { prompt: 'a fox', provider: 'backup' } });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    const [request] = server.requestsTo('POST /v1/images/generations');
    expect(request!.prefix).toBe('/backup');
    expect(request!.body).toEqual({ prompt: 'a fox', n: 1 });
    expect(job.output.metadata).toMatchObject({ provider: 'backup', model: null });
    // The caller's model wins over the configured one.
    const own = await finish({ kind: 'ai-image', input: { prompt: 'a fox', model: 'dall-e-3' } });
    expect(own.status).toBe('done');
    expect(server.requestsTo('POST /v1/images/generations')[1]!.body).toMatchObject({ model: 'dall-e-3' });
  });

  it('refuses at submit a provider that is not configured, with the names that are', async () => {
    const res = await kiln.api('POST', jobsPath(), { kind: 'ai-image', input: { prompt: 'x', provider: 'elsewhere' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain('main');
    expect(server.requests).toHaveLength(0);
  });

  it('a url answer on the provider\'s origin is fetched with the key; on another origin through the guard, without it', async () => {
    server.settings.imageAnswer = 'url';
    const same = await finish({ kind: 'ai-image', input: { prompt: 'same origin', format: 'webp' } });
    expect(same.status, JSON.stringify(same.error)).toBe('done');
    expect(same.output.contentType).toBe('image/webp');
    expect(server.requests.find((r) => r.path.startsWith('/files/'))!.headers.authorization).toBe(`Bearer ${KEY}`);

    server.reset();
    server.settings.urlBase = `http://images.example.test:${server.port}`;
    const other = await finish({ kind: 'ai-image', input: { prompt: 'elsewhere' } });
    expect(other.status, JSON.stringify(other.error)).toBe('done');
    const download = server.requests.find((r) => r.path.startsWith('/files/'))!;
    expect(download.headers.host).toBe(`images.example.test:${server.port}`);
    expect(download.headers.authorization).toBeUndefined();
    expect((await sharp(await bytesOf(other.output)).metadata()).format).toBe('png');
  });

  it('a url answer pointing at a metadata or unresolvable address is refused, and nothing is fetched', async () => {
    server.settings.imageAnswer = 'url';
    for (const base of ['http://169.254.169.254', 'http://nowhere.example.test']) {
      server.reset();
      server.settings.urlBase = base;
      const job = await finish({ kind: 'ai-image', input: { prompt: 'steered' } });
      expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'provider_error' } });
      expect(job.error.message).toContain('a URL Kiln may not fetch');
      expect(server.requests.filter((r) => r.path.startsWith('/files/'))).toHaveLength(0);
    }
  });
});

describe('what a provider answers, and what the job becomes', () => {
  it('429 with Retry-After: retried after it without spending an attempt', async () => {
    server.plan('POST /v1/images/generations', answers.rateLimited(1));
    const job = await finish({ kind: 'ai-image', input: { prompt: 'busy' }, maxAttempts: 1 });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    expect(job.attempt).toBe(1);
    const retry = (await eventsOf(job.id)).find((e) => e.type === 'content_job.retrying')!;
    expect(retry.payload).toMatchObject({ error: { code: 'provider_rate_limited' }, attemptSpent: false });
    expect(retry.payload.retryInMs).toBeGreaterThanOrEqual(1000);
    expect(server.requestsTo('POST /v1/images/generations')).toHaveLength(2);
  });

  it('500: an ordinary retry that spends an attempt; failed provider_error once they are used', async () => {
    server.plan('POST /v1/audio/speech', answers.serverError());
    const job = await finish({ kind: 'ai-speech', input: { text: 'again' } });
    expect(job).toMatchObject({ status: 'done', attempt: 2 });
    expect((await eventsOf(job.id)).find((e) => e.type === 'content_job.retrying')!.payload.error.code).toBe('provider_error');

    server.plan('POST /v1/audio/speech', answers.serverError());
    const failed = await finish({ kind: 'ai-speech', input: { text: 'once' }, maxAttempts: 1 });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'provider_error' } });
    expect(failed.error.message).toContain('main answered 500');
  });

  it('malformed JSON: provider_error, retried', async () => {
    server.plan('POST /v1/images/generations', answers.malformed());
    const job = await finish({ kind: 'ai-image', input: { prompt: 'garbled' } });
    expect(job).toMatchObject({ status: 'done', attempt: 2 });
    const retry = (await eventsOf(job.id)).find((e) => e.type === 'content_job.retrying')!;
    expect(retry.payload.error).toMatchObject({ code: 'provider_error', message: expect.stringContaining('malformed JSON') });
  });

  it.each([
    ['a content-policy 400', answers.contentPolicy(), 'provider_rejected', 'safety system'],
    ['a 404 for an unknown model', answers.unknownModel('gpt-image-9'), 'provider_rejected', 'gpt-image-9'],
    ['a 403', answers.forbidden(), 'provider_auth_failed', 'does not have access'],
  ])('%s: failed at once with the provider\'s message, never retried', async (_name, answer, code, said) => {
    server.plan('POST /v1/images/generations', answer);
    const job = await finish({ kind: 'ai-image', input: { prompt: 'no' } });
    expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code } });
    expect(job.error.message).toContain(said);
    expect(server.requestsTo('POST /v1/images/generations')).toHaveLength(1);
  });

  it('401 that repeats the key it got: provider_auth_failed, never retried, and the key is not in the error', async () => {
    server.plan('POST /v1/videos', answers.echoKey());
    const job = await finish({ kind: 'ai-video', input: { prompt: 'x', seconds: 1 } });
    expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'provider_auth_failed' } });
    expect(job.error.message).toContain('Incorrect API key provided: [redacted]');
    expect(JSON.stringify(job)).not.toContain(KEY);
    expect(server.requestsTo('POST /v1/videos')).toHaveLength(1);
  });

  it('a provider slower than the job\'s timeout: failed timeout', async () => {
    server.plan('POST /v1/images/generations', answers.slow(4000));
    const job = await finish({ kind: 'ai-image', input: { prompt: 'slow' }, timeoutMs: 800 });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });
});

describe('remote video jobs', () => {
  it('cancel reaches the remote job: DELETE /videos/{id}', async () => {
    server.settings.videoPolls = 100_000;
    const jobId = await submit({ kind: 'ai-video', input: { prompt: 'never mind', seconds: 1 } });
    await waitForJob(kiln, jobId, () => server.requestsTo('GET /v1/videos/{id}').length >= 3);
    expect((await kiln.api('POST', `${jobsPath()}/${jobId}/cancel`)).status).toBe(202);
    const job = await waitForJob(kiln, jobId);
    expect(job.status).toBe('canceled');
    const [video] = [...server.videos.values()].slice(-1);
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/v1/videos/${video!.id}`]);
    expect(video!.deleted).toBe(true);
  });

  it('a timeout cancels the remote job too', async () => {
    server.settings.videoPolls = 100_000;
    const job = await finish({ kind: 'ai-video', input: { prompt: 'too long', seconds: 1 }, timeoutMs: 1500 });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    expect(server.requestsTo('POST /v1/videos')).toHaveLength(1);
    expect(server.requestsTo('DELETE /v1/videos/{id}')).toHaveLength(1);
  });

  it('a remote job that fails on its side for a policy reason: provider_rejected, with its message', async () => {
    server.settings.nextVideoFailure = { code: 'moderation_blocked', message: 'The video was blocked by moderation.' };
    const job = await finish({ kind: 'ai-video', input: { prompt: 'forbidden', seconds: 1 } });
    expect(job).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'provider_rejected', message: expect.stringContaining('blocked by moderation') } });
  });

  it('a remote job that fails on its side otherwise: retried with a new remote job', async () => {
    const before = server.creations.videos;
    server.settings.nextVideoFailure = { code: 'internal_error', message: 'Something broke while generating.' };
    const job = await finish({ kind: 'ai-video', input: { prompt: 'flaky', seconds: 1 } });
    expect(job).toMatchObject({ status: 'done', attempt: 2 });
    expect(server.creations.videos - before).toBe(2);
  });

  it('a reference image goes as input_reference (multipart); a non-image asset is refused', async () => {
    const image = await finish({ kind: 'ai-image', input: { prompt: 'first frame', size: '320x180' } });
    server.reset();
    const job = await finish({ kind: 'ai-video', input: { prompt: 'from this', seconds: 1, size: '320x180', imageAssetId: image.output.id } });
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    expect(job.inputAssetIds).toEqual([image.output.id]);
    expect(server.requestsTo('POST /v1/videos')[0]!.body).toMatchObject({
      prompt: 'from this', seconds: '1', size: '320x180', model: 'sora-2', input_reference: { type: 'image/png', filename: 'reference.png' },
    });
    const missing = await kiln.api('POST', jobsPath(), { kind: 'ai-video', input: { prompt: 'x', imageAssetId: '00000000-0000-4000-8000-000000000000' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('asset_not_found');
    const speech = await finish({ kind: 'ai-speech', input: { text: 'not a picture' } });
    const refused = await finish({ kind: 'ai-video', input: { prompt: 'x', seconds: 1, imageAssetId: speech.output.id } });
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'validation_failed' } });
  });
});

describe('AI outputs are assets like any other', () => {
  it('an ai-image output works as a card background and as a video scene', async () => {
    const image = await finish({ kind: 'ai-image', input: { prompt: 'texture', size: '320x180' } });
    const card = await finish({ kind: 'image', input: { mode: 'card', title: 'On AI', backgroundAssetId: image.output.id, format: 'png' } });
    expect(card.status, JSON.stringify(card.error)).toBe('done');
    expect(card.inputAssetIds).toEqual([image.output.id]);
    const video = await finish({
      kind: 'video',
      input: { resolution: { width: 320, height: 180 }, fps: 10, scenes: [{ visual: { type: 'asset', assetId: image.output.id }, durationMs: 500 }] },
    });
    expect(video.status, JSON.stringify(video.error)).toBe('done');
  });

  it('the key is nowhere: not in job rows, events, assets or errors', async () => {
    const { rows } = await kiln.database.pool.query(
      `SELECT (SELECT coalesce(json_agg(j), '[]') FROM content_jobs j)::text AS jobs,
              (SELECT coalesce(json_agg(e), '[]') FROM content_job_events e)::text AS events,
              (SELECT coalesce(json_agg(a), '[]') FROM assets a)::text AS assets`,
    );
    const all = rows[0].jobs + rows[0].events + rows[0].assets;
    expect(all).toContain('provider_auth_failed'); // the 401 test's job is in there
    expect(all).not.toContain(KEY);
    expect(JSON.stringify(kiln.config)).not.toContain(KEY);
  });
});

describe('discovery, the SDK, the CLI and MCP', () => {
  it('the kinds are in /api/renderers (provider narrowed to those configured), the OpenAPI document and llms.txt', async () => {
    const { body } = await kiln.api('GET', '/api/renderers');
    const kinds = body.items.map((r: any) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['ai-image', 'ai-speech', 'ai-video']));
    const image = body.items.find((r: any) => r.kind === 'ai-image');
    expect(image.inputSchema.properties.provider.enum).toEqual(['main', 'backup']);
    for (const [name, prop] of Object.entries(image.inputSchema.properties) as [string, any][]) {
      expect(prop.title, name).toEqual(expect.any(String));
      expect(prop.description.length, name).toBeGreaterThan(5);
    }
    const openapi = JSON.stringify((await kiln.api('GET', '/api/openapi.json')).body);
    for (const kind of ['ai-image', 'ai-speech', 'ai-video']) expect(openapi).toContain(`"${kind}"`);
    const llms = await (await fetch(`${kiln.url}/llms.txt`)).text();
    expect(llms).toContain('### ai-video');
    expect(llms).not.toContain(server.baseUrl());
  });

  it('the SDK runs one to the end', async () => {
    const client = createKilnClient({ baseUrl: kiln.url });
    const job = await client.run(kiln.companyId, { kind: 'ai-speech', input: { text: 'From the SDK.', format: 'mp3' } });
    expect(job.status).toBe('done');
    expect(job.output!.contentType).toBe('audio/mpeg');
  });

  it('the CLI submits one and saves its output', async () => {
    const out = path.join(scratch, 'cli-image.png');
    const child = spawn(process.execPath, [KILN_BIN, 'submit', 'ai-image', '--input', '-', '--wait', '--out', out], {
      env: { ...process.env, KILN_URL: kiln.url, KILN_COMPANY_ID: undefined, KILN_API_KEY: undefined },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.stdin.end(JSON.stringify({ prompt: 'from the command line', size: '48x48' }));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 48, height: 48 });
  });

  it('MCP lists generate_ai_image and runs it to a result', async () => {
    const client = new Client({ name: 'kiln-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${kiln.url}/mcp`)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['generate_ai_image', 'synthesize_ai_speech', 'generate_ai_video']));
      const result = (await client.callTool({ name: 'generate_ai_image', arguments: { input: { prompt: 'for an agent', size: '32x32' } } })) as CallToolResult;
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(result.content.some((b) => b.type === 'resource_link')).toBe(true);
      expect(result.content.some((b) => b.type === 'image')).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('with no provider configured', () => {
  let bare: TestKiln;
  beforeAll(async () => {
    bare = await startTestKiln();
  });
  afterAll(async () => bare?.cleanup());

  it('the AI kinds are absent everywhere, so nothing half-works', async () => {
    const kinds = (await bare.api('GET', '/api/renderers')).body.items.map((r: any) => r.kind);
    expect(kinds).toContain('image');
    expect(kinds.filter((k: string) => k.startsWith('ai-'))).toEqual([]);
    expect(JSON.stringify((await bare.api('GET', '/api/openapi.json')).body)).not.toContain('ai-image');
    expect(await (await fetch(`${bare.url}/llms.txt`)).text()).not.toMatch(/ai-(image|speech|video)/);
    const res = await bare.api('POST', `/api/companies/${bare.companyId}/content-jobs`, { kind: 'ai-image', input: { prompt: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('unknown_kind');
    const client = new Client({ name: 'kiln-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${bare.url}/mcp`)));
    try {
      expect((await client.listTools()).tools.map((t) => t.name).filter((n) => n.includes('_ai_'))).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
