import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseSchemasByName } from '../src/http/openapi/openapi-schemas.js';
import { connectSse } from './support/sse-client.js';
import { registeredRoutes } from './support/registered-routes.js';
import { isTerminal, startTestKiln, svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';

/**
 * The API description against the running server. This Kiln runs no worker, so the jobs queued
 * from the documented examples stay queued until canceled (no renders); one real job is rendered
 * by a worker-only Kiln on the same database and disk, so the asset routes have an asset.
 */
let kiln: TestKiln;
let doc: any;
let ids: { companyId: string; jobId: string; assetId: string };

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

function operations(d: any): { method: string; path: string; op: any }[] {
  return Object.entries(d.paths).flatMap(([path, item]: [string, any]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}
const operation = (operationId: string) => operations(doc).find((o) => o.op.operationId === operationId)!;
const fill = (path: string, values: Record<string, string> = ids) => path.replace(/\{(\w+)\}/g, (_, name) => values[name]!);

/** JSON Pointer (RFC 6901) lookup of a local `$ref`. */
function resolve(d: any, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node && typeof node === 'object' ? node[key] : undefined), d);
}

function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, found));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsIn(v, found);
    }
  }
  return found;
}

/** The zod schema a documented JSON response body points at. */
function responseSchema(op: any, status: number) {
  const response = op.responses[String(status)];
  expect(response, `${op.operationId} documents ${status}`).toBeDefined();
  const ref: string | undefined = response.content?.['application/json']?.schema?.$ref;
  return ref ? responseSchemasByName()[ref.split('/').pop()!] : undefined;
}

/** The status is documented and the body parses with the schema the document names. */
function expectDocumented(op: any, res: { status: number; body: any }) {
  const schema = responseSchema(op, res.status);
  if (schema) {
    const parsed = schema.safeParse(res.body);
    expect(parsed.success, `${op.operationId} ${res.status}: ${parsed.error?.message}`).toBe(true);
  }
}

/** An error answer uses a status the operation documents, with one of that status's codes. */
function expectDocumentedError(operationId: string, res: { status: number; body: any }, code: string) {
  const op = operation(operationId).op;
  expect(res.body?.error?.code).toBe(code);
  const documented = op.responses[String(res.status)]?.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum;
  expect(documented, `${operationId} documents ${res.status}`).toContain(code);
  expectDocumented(op, res);
}

beforeAll(async () => {
  kiln = await startTestKiln({}, { worker: false });
  doc = (await kiln.api('GET', '/api/openapi.json')).body;
  const queued = await kiln.api('POST', `/api/companies/${kiln.companyId}/content-jobs`, { kind: 'image', input: { svg: svgOf('#0f766e') } });
  expect(queued.status).toBe(202);
  const worker = await startTestKiln({}, { api: false, databaseUrl: kiln.databaseUrl, dataDir: kiln.dataDir });
  let job: any;
  try {
    job = await waitForJob(kiln, queued.body.jobId, isTerminal);
  } finally {
    await worker.cleanup();
  }
  expect(job.status).toBe('done');
  ids = { companyId: kiln.companyId, jobId: job.id, assetId: job.assets.find((a: any) => a.role === 'primary').id };
});
afterAll(async () => kiln?.cleanup());

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document: every $ref resolves, operationIds are present and unique', async () => {
    const res = await kiln.api('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');

    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) expect(resolve(doc, ref), ref).toBeDefined();
    for (const name of Object.keys(doc.components.schemas)) expect(name).toMatch(/^[a-zA-Z0-9._-]+$/);

    const ops = operations(doc);
    const operationIds = ops.map((o) => o.op.operationId);
    expect(operationIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    const tags = new Set(doc.tags.map((t: any) => t.name));
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const { path, op } of ops) {
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${op.operationId} has a 2xx`).toBe(true);
      for (const t of op.tags) expect(tags.has(t)).toBe(true);
      for (const requirement of op.security ?? doc.security) for (const s of Object.keys(requirement)) expect(schemes).toContain(s);
      // Every `{param}` of the path is a required path parameter, and vice versa.
      const params = (op.parameters ?? []).map((p: any) => (p.$ref ? resolve(doc, p.$ref) : p));
      const inPath = params.filter((p: any) => p.in === 'path');
      expect(inPath.map((p: any) => p.name).sort()).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      expect(inPath.every((p: any) => p.required === true)).toBe(true);
      // `example` and `examples` are mutually exclusive on a media type.
      for (const media of Object.values<any>(op.requestBody?.content ?? {})) expect(media.example !== undefined && media.examples !== undefined).toBe(false);
    }
  });

  it('documents every route the server registered, with the same method and path', () => {
    const documented = new Set(operations(doc).map((o) => `${o.method.toUpperCase()} ${o.path}`));
    const registered = registeredRoutes(kiln.app!)
      // The dashboard's static files are not part of the API.
      .filter((r) => r.url.startsWith('/api/'))
      .map((r) => ({ ...r, key: `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}` }));
    expect(registered.length).toBeGreaterThan(15);
    const byKey = new Set(registered.map((r) => r.key));
    for (const r of registered) {
      // Fastify answers HEAD for every GET on its own; only a HEAD route of its own is documented.
      if (r.method === 'HEAD' && byKey.has(r.key.replace(/^HEAD/, 'GET')) && !documented.has(r.key)) continue;
      expect(documented, `${r.key} is registered but not documented`).toContain(r.key);
    }
    for (const { method, path } of operations(doc)) {
      expect(kiln.app!.hasRoute({ method: method.toUpperCase() as any, url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is documented but not registered`).toBe(true);
    }
    expect(documented).toContain('HEAD /api/companies/{companyId}/assets/{assetId}/content');
  });

  it('has one create-job example per renderer kind, each with the input schema of that kind', async () => {
    const kinds = (await kiln.api('GET', '/api/renderers')).body.items.map((r: any) => r.kind).sort();
    const media = operation('createContentJob').op.requestBody.content['application/json'];
    expect(Object.values<any>(media.examples).map((e) => e.value.kind).sort()).toEqual(kinds);
    const body = doc.components.schemas.CreateJobBody;
    expect(body.discriminator.propertyName).toBe('kind');
    expect(body.oneOf).toHaveLength(kinds.length);
    for (const kind of kinds) {
      const variant: any = resolve(doc, body.discriminator.mapping[kind]);
      expect(variant.properties.kind.const).toBe(kind);
      const input: any = resolve(doc, variant.properties.input.$ref);
      expect(input.examples).toHaveLength(1);
    }
  });

  it('accepts a request built from every documented request body example (queued jobs are canceled)', async () => {
    let sent = 0;
    for (const { method, path, op } of operations(doc)) {
      const media = op.requestBody?.content?.['application/json'];
      if (!media) continue;
      const examples = media.examples ? Object.values<any>(media.examples).map((e) => e.value) : [media.example];
      expect(examples.length, `${op.operationId} has a request body example`).toBeGreaterThan(0);
      for (const example of examples) {
        const res = await kiln.api(method.toUpperCase(), fill(path), example);
        expect(res.status, `${op.operationId} ${JSON.stringify(res.body).slice(0, 300)}`).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
        expectDocumented(op, res);
        sent++;
        if (op.operationId === 'createContentJob') {
          expect(res.status).toBe(202);
          const cancel = await kiln.api('POST', fill(`${path}/{jobId}/cancel`, { ...ids, jobId: res.body.jobId }));
          expect(cancel.status).toBe(200);
          expect(cancel.body.status).toBe('canceled');
        }
      }
    }
    expect(sent).toBeGreaterThanOrEqual(1 + (await kiln.api('GET', '/api/renderers')).body.items.length);
  });

  it('answers the documented status with the documented shape on every JSON read', async () => {
    const reads = operations(doc).filter(({ method, op }) => method === 'get' && op.responses['200']?.content?.['application/json']?.schema?.$ref);
    expect(reads.length).toBeGreaterThanOrEqual(9);
    for (const { path, op } of reads) {
      const res = await kiln.api('GET', fill(path));
      expect(res.status, op.operationId).toBe(200);
      expectDocumented(op, res);
    }
  });

  it('documents the asset download statuses the server answers: 200, HEAD, 206, 304, 416, then DELETE 204', async () => {
    const get = operation('getAssetContent');
    const url = kiln.url + fill(get.path);
    const full = await fetch(url);
    expect(full.status).toBe(200);
    const bytes = Buffer.from(await full.arrayBuffer());
    const etag = full.headers.get('etag')!;
    for (const name of Object.keys(get.op.responses['200'].headers)) expect(full.headers.get(name), name).not.toBeNull();

    const head = await fetch(url, { method: 'HEAD' });
    expect(Object.keys(operation('headAssetContent').op.responses)).toContain(String(head.status));
    expect(head.status).toBe(200);

    const part = await fetch(url, { headers: { range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-9/${bytes.length}`);
    expect(Object.keys(get.op.responses['206'].headers)).toContain('Content-Range');

    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect(get.op.responses['304']).toBeDefined();

    const beyond = await kiln.api('GET', fill(get.path), undefined, { range: `bytes=${bytes.length + 10}-` });
    expectDocumentedError('getAssetContent', beyond, 'range_not_satisfiable');

    const del = operation('deleteAsset');
    const deleted = await kiln.api('DELETE', fill(del.path));
    expect(deleted.status).toBe(204);
    expect(del.op.responses['204']).toBeDefined();
    expectDocumentedError('getAsset', await kiln.api('GET', fill(operation('getAsset').path)), 'asset_not_found');
  });

  it('answers errors with a status and code the operation documents', async () => {
    const jobs = fill(operation('createContentJob').path);
    expectDocumentedError('createContentJob', await kiln.api('POST', jobs, { kind: 'hologram', input: {} }), 'unknown_kind');
    expectDocumentedError('createContentJob', await kiln.api('POST', jobs, { kind: 'image', input: { svg: '' }, colour: 'red' }), 'validation_failed');
    expectDocumentedError('createContentJob', await kiln.api('POST', jobs, '{"kind":', { 'content-type': 'application/json' }), 'invalid_json');
    expectDocumentedError('createContentJob', await kiln.api('POST', jobs, 'kind=image', { 'content-type': 'text/plain' }), 'unsupported_media_type');
    expectDocumentedError('getContentJob', await kiln.api('GET', fill(operation('getContentJob').path, { ...ids, jobId: randomUUID() })), 'job_not_found');
    expectDocumentedError('getCompany', await kiln.api('GET', fill(operation('getCompany').path, { companyId: randomUUID() })), 'company_not_found');
    expectDocumentedError('cancelContentJob', await kiln.api('POST', fill(operation('cancelContentJob').path)), 'job_not_cancelable');
    expectDocumentedError('listContentJobs', await kiln.api('GET', `${fill(operation('listContentJobs').path)}?limit=0`), 'validation_failed');
    expectDocumentedError('createCompany', await kiln.api('POST', '/api/companies', { name: '' }), 'validation_failed');
    const badResume = await kiln.api('GET', fill(operation('streamCompanyEvents').path), undefined, { 'last-event-id': 'abc' });
    expectDocumentedError('streamCompanyEvents', badResume, 'validation_failed');
  });

  it('streams the documented event types on the job SSE stream, with data in the documented shapes', async () => {
    const op = operation('streamContentJobEvents');
    const media = op.op.responses['200'].content['text/event-stream'];
    const documentedEvents = media['x-kiln-events'];
    expect(Object.keys(documentedEvents)).toEqual(expect.arrayContaining(['snapshot', 'content_job.queued', 'content_job.done', 'asset.created']));
    expect(op.op.parameters.map((p: any) => p.$ref)).toContain('#/components/parameters/LastEventId');

    const sse = await connectSse(kiln.url + fill(op.path));
    await sse.ended;
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sse.messages[0]!.event).toBe('snapshot');
    expect(sse.messages.map((m) => m.event)).toContain('content_job.done');
    const schemas = responseSchemasByName();
    for (const m of sse.messages) {
      const ref = documentedEvents[m.event]?.$ref as string | undefined;
      expect(ref, `${m.event} is documented`).toBeDefined();
      const parsed = schemas[ref!.split('/').pop()!]!.safeParse(m.data);
      expect(parsed.success, `${m.event}: ${parsed.error?.message}`).toBe(true);
    }
  });
});

describe('GET /api/docs', () => {
  it('is one self-contained HTML page, locked down by its CSP, naming every path and operation', async () => {
    const res = await fetch(`${kiln.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    // The inline style is the one thing the policy lets in, by hash.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=/i);
    for (const { path, op } of operations(doc)) {
      expect(html, path).toContain(path);
      expect(html, op.operationId).toContain(`id="op-${op.operationId}"`);
    }
    for (const code of ['company_not_found', 'job_not_cancelable', 'range_not_satisfiable', 'render_failed']) expect(html).toContain(code);
  });
});

describe('authenticated mode', () => {
  it('serves the API description without a key; every other documented operation asks for one', async () => {
    const secured = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated' }, { worker: false });
    try {
      const fake = { companyId: randomUUID(), jobId: randomUUID(), assetId: randomUUID() };
      for (const { method, path, op } of operations(doc)) {
        const res = await fetch(secured.url + fill(path, fake), { method: method.toUpperCase() });
        await res.arrayBuffer();
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        if (isPublic) expect(res.status, op.operationId).toBe(200);
        else expect(res.status, op.operationId).toBe(401);
      }
    } finally {
      await secured.cleanup();
    }
  });
});
