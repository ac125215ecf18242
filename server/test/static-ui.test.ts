import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../src/http/error-handler.js';
import { staticUiRoutes } from '../src/http/static-ui.js';

let dist: string;
let app: FastifyInstance;

async function appServing(root: string) {
  const a = Fastify();
  installErrorHandler(a);
  a.get('/api/health', async () => ({ status: 'ok' }));
  await a.register(staticUiRoutes({ root }));
  await a.ready();
  return a;
}

beforeAll(async () => {
  dist = await mkdtemp(path.join(tmpdir(), 'kiln-ui-dist-'));
  await mkdir(path.join(dist, 'assets'));
  await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>Kiln</title>');
  await writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  app = await appServing(dist);
});
afterAll(async () => {
  await app?.close();
  await rm(dist, { recursive: true, force: true });
});

describe('static UI', () => {
  it('serves index.html at / (revalidated) and hashed assets (immutable)', async () => {
    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<title>Kiln</title>');
    expect((await app.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(200);

    const js = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toContain('immutable');
  });

  it('leaves /api to the API: unknown API paths keep the JSON 404 shape', async () => {
    for (const url of ['/api/nope', '/api/', '/api/companies/x/nothing?y=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ error: { code: 'not_found', message: expect.stringContaining('/api/docs'), details: expect.objectContaining({ docs: '/api/docs' }) } });
    }
    expect((await app.inject({ method: 'GET', url: '/api/health' })).json()).toEqual({ status: 'ok' });
    // The dashboard sends its own CSP; media it previews may come from blob: URLs (API-key mode).
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('answers a missing file or a path outside the build with the JSON 404', async () => {
    for (const url of ['/missing.js', '/assets/../../etc/passwd', '/%2e%2e/package.json']) {
      const res = await app.inject({ method: 'GET', url });
      expect([403, 404], url).toContain(res.statusCode);
      expect(res.body, url).not.toContain('root:');
    }
    expect((await app.inject({ method: 'GET', url: '/missing.js' })).json().error.code).toBe('not_found');
  });

  it('explains how to build the dashboard when there is no build', async () => {
    const bare = await appServing(path.join(dist, 'not-built'));
    try {
      const res = await bare.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build -w @kiln/ui');
    } finally {
      await bare.close();
    }
  });
});
