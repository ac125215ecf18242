import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config.js';
import { providerRenderers } from '../src/providers/provider-kinds.js';
import { errorFromAnswer, MAX_RETRY_AFTER_MS, retryAfterMsOf } from '../src/providers/provider-errors.js';
import type { ProviderConfig } from '../src/providers/provider-config.js';

/** KILN_PROVIDERS as loadConfig reads it, the error table, and the kinds' published schemas. */
const KEY = 'sk-config-test-SECRET-value';
const entry = (extra: Record<string, unknown> = {}) => ({ name: 'main', type: 'openai', baseUrl: 'https://api.example.test/v1/', apiKeyEnv: 'MAIN_KEY', ...extra });
const load = (providers: unknown, env: Record<string, string> = { MAIN_KEY: KEY }) =>
  loadConfig({ KILN_PROVIDERS: typeof providers === 'string' ? providers : JSON.stringify(providers), ...env });
const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('KILN_PROVIDERS', () => {
  it('unset: no providers', () => {
    expect(loadConfig({}).providers).toEqual([]);
  });

  it('inline JSON, with defaults; the key read from the variable it names', () => {
    const [p] = load([entry()]).providers;
    expect(p).toMatchObject({ name: 'main', baseUrl: 'https://api.example.test/v1', maxConcurrent: 4, pollIntervalMs: 5000, kinds: ['ai-image', 'ai-speech', 'ai-video'], models: {} });
    expect(p!.apiKey!.reveal()).toBe(KEY);
  });

  it('a path to a JSON file; `models` decides the kinds a provider serves', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kiln-providers-config-'));
    try {
      const file = path.join(dir, 'providers.json');
      await writeFile(file, JSON.stringify([entry({ models: { 'ai-speech': 'tts-1' }, maxConcurrent: 8, pollIntervalMs: 250 }), { name: 'local', type: 'openai', baseUrl: 'http://127.0.0.1:8080/v1' }]));
      const [main, local] = load(file).providers;
      expect(main).toMatchObject({ kinds: ['ai-speech'], models: { 'ai-speech': 'tts-1' }, maxConcurrent: 8, pollIntervalMs: 250 });
      // Without apiKeyEnv (a local server that needs none): no key, no Authorization header.
      expect(local).toMatchObject({ name: 'local', apiKey: null, kinds: ['ai-image', 'ai-speech', 'ai-video'] });
      expect(problem(() => load(path.join(dir, 'missing.json')))).toContain('neither inline JSON nor a readable file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing or empty key variable stops start-up, naming the variable', () => {
    expect(problem(() => load([entry()], {}))).toContain('the environment variable MAIN_KEY (apiKeyEnv) is not set');
    expect(problem(() => load([entry()], { MAIN_KEY: ' ' }))).toContain('MAIN_KEY');
  });

  it.each([
    ['not JSON', '[{', 'not valid JSON'],
    ['an unknown type', [entry({ type: 'anthropic' })], 'KILN_PROVIDERS[0].type'],
    ['a baseUrl that is not http(s)', [entry({ baseUrl: 'ftp://x/v1' })], 'KILN_PROVIDERS[0].baseUrl'],
    ['credentials in the baseUrl', [entry({ baseUrl: `https://user:${KEY}@x/v1` })], 'no credentials in the URL'],
    ['an unknown kind in models', [entry({ models: { 'ai-music': 'x' } })], 'KILN_PROVIDERS[0].models'],
    ['a name used twice', [entry(), entry()], '"main" is used twice'],
    ['a bad name', [entry({ name: 'has space' })], 'KILN_PROVIDERS[0].name'],
    ['an unknown field', [entry({ apiKey: KEY })], 'KILN_PROVIDERS[0]'],
  ])('refuses %s with a sentence naming the field', (_what, providers, says) => {
    const message = problem(() => load(providers));
    expect(message).toContain(says);
    expect(message).not.toContain(KEY);
  });

  it('the key prints as [redacted] however the config is logged', () => {
    const config = load([entry()]);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(inspect(config, { depth: 10 })).not.toContain(KEY);
    expect(String(config.providers[0]!.apiKey)).toBe('[redacted]');
  });
});

describe('a provider\'s answer → the job\'s outcome', () => {
  const provider = load([entry()]).providers[0]! as ProviderConfig;
  const headers = (h: Record<string, string> = {}) => new Headers(h);
  const error = (status: number, h: Record<string, string> = {}, body = '{"error":{"message":"said so","code":"x_code"}}') =>
    errorFromAnswer(provider, 'a request', status, headers(h), body);

  it.each([
    [429, 'provider_rate_limited', true, true],
    [500, 'provider_error', true, undefined],
    [503, 'provider_error', true, undefined],
    [408, 'provider_error', true, undefined],
    [400, 'provider_rejected', false, undefined],
    [404, 'provider_rejected', false, undefined],
    [422, 'provider_rejected', false, undefined],
    [401, 'provider_auth_failed', false, undefined],
    [403, 'provider_auth_failed', false, undefined],
    [302, 'provider_error', false, undefined],
  ])('%i → %s (retryable %s, free %s)', (status, code, retryable, free) => {
    const e = error(status);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.options.freeRetry).toBe(free);
    if (status >= 400) expect(e.message).toBe(`main answered ${status} (x_code) to a request: said so`);
  });

  it('Retry-After as seconds, as an HTTP date, or retry-after-ms; capped; a 429 without it still waits', () => {
    expect(error(429, { 'retry-after': '7' }).options.retryAfterMs).toBe(7000);
    expect(error(503, { 'retry-after': '2' }).options.retryAfterMs).toBe(2000);
    expect(error(429, { 'retry-after-ms': '1500', 'retry-after': '9' }).options.retryAfterMs).toBe(1500);
    expect(retryAfterMsOf(headers({ 'retry-after': new Date(10_000 + 30_000).toUTCString() }), 10_000)).toBe(30_000);
    expect(retryAfterMsOf(headers({ 'retry-after': '86400' }))).toBe(MAX_RETRY_AFTER_MS);
    expect(error(429).options.retryAfterMs).toBeGreaterThan(0);
    expect(error(500).options.retryAfterMs).toBeUndefined(); // the lifecycle's backoff applies
  });

  it('the key never makes it into a message, whatever the provider echoes', () => {
    const e = error(401, {}, JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}` } }));
    expect(e.message).not.toContain(KEY);
    expect(e.message).toContain('[redacted]');
    expect(error(500, {}, `<html>proxy error for Bearer ${KEY}</html>`).message).not.toContain(KEY);
  });
});

describe('the AI kinds\' input schemas, as agents and forms see them', () => {
  const kinds = providerRenderers(load([entry()]).providers);

  it('exist only for configured providers', () => {
    expect(kinds.map((k) => k.kind)).toEqual(['ai-image', 'ai-speech', 'ai-video']);
    expect(providerRenderers([])).toEqual([]);
    expect(providerRenderers(load([entry({ models: { 'ai-image': 'gpt-image-1' } })]).providers).map((k) => k.kind)).toEqual(['ai-image']);
  });

  it.each(kinds.map((k) => [k.kind, k] as const))('%s: every field has a title and a description; the example is accepted; caps are published', (_kind, kind) => {
    const schema = z.toJSONSchema(kind.inputSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, any> };
    for (const [name, prop] of Object.entries(schema.properties)) {
      expect(prop.title, name).toEqual(expect.any(String));
      expect(String(prop.description ?? '').length, name).toBeGreaterThan(5);
    }
    expect(schema.properties.provider.enum).toEqual(['main']);
    expect(kind.inputSchema.safeParse(kind.example).success).toBe(true);
    expect(kind).toMatchObject({ runsIn: 'worker', slots: { group: 'main', size: 4 }, previewOutputs: true });
  });

  it('refuses more than four images, sizes past the raster caps and unknown fields', () => {
    const image = kinds.find((k) => k.kind === 'ai-image')!;
    expect(image.inputSchema.safeParse({ prompt: 'x', n: 5 }).success).toBe(false);
    expect(image.inputSchema.safeParse({ prompt: 'x', size: '20000x10' }).success).toBe(false);
    expect(image.inputSchema.safeParse({ prompt: 'x', size: '8000x8000' }).success).toBe(false);
    expect(image.inputSchema.safeParse({ prompt: 'x', quality: 'hd' }).success).toBe(false);
    expect(kinds.find((k) => k.kind === 'ai-video')!.defaultTimeoutMs).toBe(30 * 60_000);
  });
});
