import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { ownAssetFromUrl } from '../src/mcp/job-and-asset-tools.js';
import { startTestKiln, svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';
import { startKilnWithTestKinds } from './support/test-kiln-with-test-kinds.js';

/**
 * Kiln as MCP tools, through the SDK's own Client over both transports: `kiln mcp` (the real
 * binary, spawned, speaking stdio to a running test Kiln over HTTP) and `/mcp` (streamable HTTP on
 * the same Fastify server). Both run the same suite against one Kiln with the test kinds.
 */
const KILN_BIN = fileURLToPath(new URL('../bin/kiln.mjs', import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startKilnWithTestKinds();
});
afterAll(async () => kiln?.cleanup());

interface Connected {
  client: Client;
  /** Anything the client transport could not parse or deliver (stdout noise would land here). */
  transportErrors: Error[];
  stderr: () => string;
}

async function connectStdio(env: Record<string, string> = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [KILN_BIN, 'mcp'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KILN_URL: kiln.url, ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return connect(transport, () => stderr);
}

async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Connected> {
  return connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }), () => '');
}

async function connect(transport: StdioClientTransport | StreamableHTTPClientTransport, stderr: () => string): Promise<Connected> {
  const client = new Client({ name: 'kiln-test', version: '1.0.0' });
  const transportErrors: Error[] = [];
  client.onerror = (err) => transportErrors.push(err);
  await client.connect(transport);
  return { client, transportErrors, stderr };
}

const call = (c: Connected, name: string, args: Record<string, unknown>, options: Parameters<Client['callTool']>[2] = {}) =>
  c.client.callTool({ name, arguments: args }, undefined, options) as Promise<CallToolResult>;

const linksOf = (r: CallToolResult) => r.content.filter((b) => b.type === 'resource_link');
const textOf = (r: CallToolResult) => r.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('\n');

const uploadsRouteExists = () => kiln.app!.hasRoute({ method: 'POST', url: '/api/companies/:companyId/assets' });

describe.each([
  ['kiln mcp over stdio', () => connectStdio()],
  ['/mcp over streamable HTTP', () => connectHttp(kiln.url)],
])('%s', (_name, open) => {
  let c: Connected;
  beforeAll(async () => {
    c = await open();
  });
  afterAll(async () => {
    // Nothing but protocol on stdout: a stray line would have been a parse error here. (Checked
    // before close: closing the HTTP client aborts its own GET stream, which it reports too.)
    const errors = [...(c?.transportErrors ?? [])];
    await c?.client.close();
    expect(errors).toEqual([]);
  });

  it('lists a tool per kind with the schema of GET /api/renderers, and the job and asset tools', async () => {
    const { tools } = await c.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['generate_image', 'render_chart', 'render_document', 'synthesize_speech', 'render_video', 'render_test_slow', 'render_test_fail']) {
      expect(byName.has(name), name).toBe(true);
    }
    for (const name of ['get_job', 'list_jobs', 'cancel_job', 'upload_asset', 'list_assets']) expect(byName.has(name), name).toBe(true);

    const renderers = (await kiln.api('GET', '/api/renderers')).body.items as { kind: string; inputSchema: Record<string, unknown> }[];
    for (const [kind, tool] of [['image', 'generate_image'], ['video', 'render_video'], ['test-slow', 'render_test_slow']] as const) {
      const { $schema: _dialect, $defs, ...expected } = renderers.find((r) => r.kind === kind)!.inputSchema;
      const schema = byName.get(tool)!.inputSchema as any;
      expect(schema.type).toBe('object');
      expect(schema.required).toEqual(['input']);
      expect(schema.properties.input).toEqual({ ...expected, description: expect.any(String) });
      // Definitions move to the tool's top level, where the unchanged "#/$defs/…" references resolve.
      expect(schema.$defs).toEqual($defs);
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['outputName', 'sourceTaskId', 'companyId', 'waitSeconds']));
    }
    expect(byName.get('generate_image')!.description).toMatch(/progress/);
    expect((byName.get('upload_asset')!.inputSchema as any).properties).toHaveProperty('dataBase64');
  });

  let imageLink: { uri: string; mimeType?: string; size?: number };
  let imageJobId: string;

  it('generate_image returns the PNG inline and as a resource link, with the job id and status', async () => {
    const result = await call(c, 'generate_image', { input: { svg: svgOf('#0f766e', 48, 24) }, outputName: 'teal-card', sourceTaskId: 'mcp-task' });
    expect(result.isError, textOf(result)).toBeFalsy();
    const image = result.content.find((b) => b.type === 'image') as { data: string; mimeType: string };
    expect(image.mimeType).toBe('image/png');
    const bytes = Buffer.from(image.data, 'base64');
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 48, height: 24 });

    const summary = result.structuredContent as any;
    expect(summary).toMatchObject({ status: 'done', kind: 'image', warnings: [], error: null });
    imageJobId = summary.jobId;
    const job = (await kiln.api('GET', `/api/companies/${kiln.companyId}/content-jobs/${imageJobId}`)).body;
    expect(job.status).toBe('done');
    expect(job.sourceTaskId).toBe('mcp-task');

    const [primary, preview] = linksOf(result) as any[];
    expect(primary).toMatchObject({ uri: `kiln://assets/${job.output.id}`, name: 'teal-card.png', mimeType: 'image/png', size: job.output.byteSize });
    expect(preview.uri).toMatch(/^kiln:\/\/assets\//);
    expect(sha256(bytes)).toBe(job.output.sha256);
    imageLink = primary;
  });

  it('resources/read returns the asset bytes; the template and the recent-assets list name it', async () => {
    const read = await c.client.readResource({ uri: imageLink.uri });
    const content = read.contents[0] as { uri: string; mimeType: string; blob: string };
    expect(content).toMatchObject({ uri: imageLink.uri, mimeType: 'image/png' });
    const assetId = imageLink.uri.split('/').pop()!;
    const viaHttp = Buffer.from(await (await fetch(`${kiln.url}/api/companies/${kiln.companyId}/assets/${assetId}/content`)).arrayBuffer());
    expect(Buffer.from(content.blob, 'base64')).toEqual(viaHttp);

    const { resourceTemplates } = await c.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('kiln://assets/{assetId}');
    const { resources } = await c.client.listResources();
    expect(resources.find((r) => r.uri === imageLink.uri)).toMatchObject({ mimeType: 'image/png', size: imageLink.size });

    await expect(c.client.readResource({ uri: `kiln://assets/${randomUUID()}` })).rejects.toThrow(/not found/i);
  });

  it('sends progress notifications from the job\'s progress events, then returns a text output readable as text', async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = await call(c, 'render_test_slow', { input: { ms: 1500, steps: 5 } }, { onprogress: (p) => progress.push(p) });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect((result.structuredContent as any).status).toBe('done');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress.every((p) => p.total === 1 && p.progress > 0 && p.progress <= 1)).toBe(true);
    expect(progress.map((p) => p.message)).toContain('step-1');

    const [link] = linksOf(result) as any[];
    expect(link).toMatchObject({ mimeType: 'text/plain', name: 'slow.txt' });
    const read = await c.client.readResource({ uri: link.uri });
    expect(read.contents[0]).toMatchObject({ mimeType: 'text/plain', text: 'slept 1500 ms\n' });
  });

  it('canceling the tool call cancels the Kiln job', async () => {
    const task = `cancel-${randomUUID()}`;
    const abort = new AbortController();
    const pending = call(c, 'render_test_slow', { input: { ms: 120_000, steps: 100 }, sourceTaskId: task }, {
      signal: abort.signal,
      onprogress: () => abort.abort('the agent changed its mind'),
    });
    await expect(pending).rejects.toThrow();
    const list = (await kiln.api('GET', `/api/companies/${kiln.companyId}/content-jobs?sourceTaskId=${task}`)).body.items;
    expect(list).toHaveLength(1);
    const job = await waitForJob(kiln, list[0].id);
    expect(job.status).toBe('canceled');
  });

  it('a failing job is an error result with its code; invalid input is an error result naming the field', async () => {
    const failed = await call(c, 'render_test_fail', { input: { code: 'render_failed' } });
    expect(failed.isError).toBe(true);
    expect((failed.structuredContent as any)).toMatchObject({ status: 'failed', error: { code: 'render_failed', message: expect.stringContaining('asked to fail') } });
    expect(textOf(failed)).toContain('render_failed');

    const invalid = await call(c, 'generate_image', { input: { svg: '' } });
    expect(invalid.isError).toBe(true);
    expect((invalid.structuredContent as any).error).toMatchObject({ code: 'validation_failed', details: expect.any(Array) });

    const unknownJob = await call(c, 'get_job', { jobId: randomUUID() });
    expect(unknownJob.isError).toBe(true);
    expect((unknownJob.structuredContent as any).error.code).toBe('job_not_found');
  });

  it('get_job, list_jobs and list_assets find what the calls made', async () => {
    const job = await call(c, 'get_job', { jobId: imageJobId });
    expect(job.isError).toBeFalsy();
    expect((job.structuredContent as any)).toMatchObject({ jobId: imageJobId, status: 'done' });
    expect(linksOf(job)[0]).toMatchObject({ uri: imageLink.uri });

    const jobs = await call(c, 'list_jobs', { kind: 'image', limit: 5 });
    expect((jobs.structuredContent as any).items.map((j: any) => j.jobId)).toContain(imageJobId);
    const assets = await call(c, 'list_assets', { sourceTaskId: 'mcp-task' });
    expect((assets.structuredContent as any).items.map((a: any) => a.uri)).toContain(imageLink.uri);
  });

  it('cancel_job cancels a queued or running job', async () => {
    const started = await call(c, 'render_test_slow', { input: { ms: 120_000, steps: 2 }, waitSeconds: 0 });
    const jobId = (started.structuredContent as any).jobId;
    expect(['queued', 'running']).toContain((started.structuredContent as any).status);
    const canceled = await call(c, 'cancel_job', { jobId });
    expect(canceled.isError).toBeFalsy();
    expect((await waitForJob(kiln, jobId)).status).toBe('canceled');
    const again = await call(c, 'cancel_job', { jobId });
    expect(again.isError).toBe(true);
    expect((again.structuredContent as any).error.code).toBe('job_not_cancelable');
  });

  it('upload_asset refuses URLs that are not this server\'s assets, and never fetches them', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'https://example.com/logo.png', `http://127.0.0.2:1/api/companies/default/assets/${randomUUID()}/content`, 'file:///etc/passwd']) {
      const r = await call(c, 'upload_asset', { url });
      expect(r.isError, url).toBe(true);
      expect((r.structuredContent as any).error.code, url).toBe('validation_failed');
    }
  });

  it('upload_asset with base64 bytes makes an input asset a later job can use', async (ctx) => {
    if (!uploadsRouteExists()) ctx.skip('POST /api/companies/:companyId/assets (the uploads route) is not on this branch yet');
    const logo = await sharp({ create: { width: 32, height: 32, channels: 4, background: '#ff0000' } }).png().toBuffer();
    const up = await call(c, 'upload_asset', { dataBase64: logo.toString('base64'), filename: 'logo.png', contentType: 'image/png' });
    expect(up.isError, textOf(up)).toBeFalsy();
    const asset = up.structuredContent as any;
    expect(asset).toMatchObject({ role: 'input', contentType: 'image/png', byteSize: logo.length, uri: `kiln://assets/${asset.assetId}` });
    const read = await c.client.readResource({ uri: asset.uri });
    expect(Buffer.from((read.contents[0] as any).blob, 'base64')).toEqual(logo);

    const card = await call(c, 'generate_image', { input: { mode: 'card', title: 'With a logo', logoAssetId: asset.assetId, size: { width: 320, height: 200 } } });
    expect(card.isError, textOf(card)).toBeFalsy();
    const job = (await kiln.api('GET', `/api/companies/${kiln.companyId}/content-jobs/${(card.structuredContent as any).jobId}`)).body;
    expect(job.inputAssetIds).toContain(asset.assetId);

    // An asset URL of this same server is copied through the API.
    const copy = await call(c, 'upload_asset', { url: `${kiln.url}/api/companies/${kiln.companyId}/assets/${asset.assetId}/content`, filename: 'logo-copy.png' });
    expect(copy.isError, textOf(copy)).toBeFalsy();
    expect(copy.structuredContent as any).toMatchObject({ role: 'input', filename: 'logo-copy.png', byteSize: logo.length });
  });
});

describe('upload_asset URL rule', () => {
  it('accepts kiln:// URIs, paths and this server\'s asset URLs only', () => {
    const id = randomUUID();
    const own = ['http://127.0.0.1:3100'];
    expect(ownAssetFromUrl(`kiln://assets/${id}`, own)).toEqual({ companyId: null, assetId: id });
    expect(ownAssetFromUrl(`http://127.0.0.1:3100/api/companies/default/assets/${id}/content`, own)).toEqual({ companyId: 'default', assetId: id });
    expect(ownAssetFromUrl(`/api/companies/${id}/assets/${id}`, own)).toEqual({ companyId: id, assetId: id });
    for (const url of [
      `http://127.0.0.1:3101/api/companies/default/assets/${id}/content`,
      `http://localhost:3100/api/companies/default/assets/${id}/content`,
      `//evil.example/api/companies/default/assets/${id}/content`,
      `http://127.0.0.1:3100@evil.example/api/companies/default/assets/${id}/content`,
      `http://127.0.0.1:3100/api/companies/default/content-jobs/${id}`,
      `http://127.0.0.1:3100/api/companies/../assets/${id}/content`,
      'ftp://127.0.0.1:3100/x',
    ]) {
      expect(ownAssetFromUrl(url, own), url).toBeNull();
    }
  });
});

describe('/mcp in authenticated mode', () => {
  let secured: TestKiln;
  let companyA: string;
  let companyB: string;
  let keyA: string;
  let keyB: string;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const initialize = (headers: Record<string, string>) =>
    fetch(`${secured.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });

  beforeAll(async () => {
    secured = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_RATE_LIMIT_PER_SECOND: '0' });
    const companies = companyService(secured.database.pool);
    const keys = apiKeyService(secured.database.pool);
    companyA = (await companies.create({ name: 'Acme' })).id;
    companyB = (await companies.create({ name: 'Globex' })).id;
    keyA = (await keys.create({ companyId: companyA, name: 'acme' })).key;
    keyB = (await keys.create({ companyId: companyB, name: 'globex' })).key;
  });
  afterAll(async () => secured?.cleanup());

  it('answers 401 without a key (POST, GET and DELETE), and 403 to a foreign Origin even with one', async () => {
    const res = await initialize({});
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
    for (const method of ['GET', 'DELETE']) expect((await fetch(`${secured.url}/mcp`, { method })).status, method).toBe(401);
    expect((await initialize(bearer('kiln_not_a_key'))).status).toBe(401);

    const foreign = await initialize({ ...bearer(keyA), origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error.code).toBe('forbidden');
    const sameOrigin = await initialize({ ...bearer(keyA), origin: secured.url });
    expect(sameOrigin.status).toBe(200);
    await sameOrigin.body?.cancel();
  });

  it("acts as the caller's key: its own company by default, never another company's", async () => {
    const c = await connectHttp(secured.url, bearer(keyA));
    try {
      const made = await call(c, 'generate_image', { input: { svg: svgOf('#336699') } });
      expect(made.isError, textOf(made)).toBeFalsy();
      expect((made.structuredContent as any).companyId).toBe(companyA);
      const job = await secured.api('GET', `/api/companies/${companyA}/content-jobs/${(made.structuredContent as any).jobId}`, undefined, bearer(keyA));
      expect(job.body.status).toBe('done');
      const read = await c.client.readResource({ uri: (linksOf(made)[0] as any).uri });
      expect(Buffer.from((read.contents[0] as any).blob, 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);

      for (const [tool, args] of [
        ['list_jobs', { companyId: companyB }],
        ['list_assets', { companyId: companyB }],
        ['generate_image', { input: { svg: svgOf('#990000') }, companyId: companyB }],
      ] as const) {
        const r = await call(c, tool, args);
        expect(r.isError, tool).toBe(true);
        expect((r.structuredContent as any).error.code, tool).toBe('company_not_found');
      }
      await expect(c.client.readResource({ uri: `kiln://companies/${companyB}/assets/${randomUUID()}` })).rejects.toThrow(/not found/i);
      const countB = await secured.database.pool.query(`SELECT count(*)::int AS n FROM content_jobs WHERE company_id = $1`, [companyB]);
      expect(countB.rows[0].n).toBe(0);
    } finally {
      await c.client.close();
    }
  });

  it("a session belongs to the key that opened it: another key gets 404 for it", async () => {
    const opened = await initialize(bearer(keyA));
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get('mcp-session-id')!;
    expect(sessionId).toBeTruthy();
    await opened.body?.cancel();
    const list = (key: string) =>
      fetch(`${secured.url}/mcp`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    const stolen = await list(keyB);
    expect(stolen.status).toBe(404);
    await stolen.body?.cancel();
    const own = await list(keyA);
    expect(own.status).toBe(200);
    await own.body?.cancel();
  });
});
