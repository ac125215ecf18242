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
