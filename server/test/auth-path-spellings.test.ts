import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { registeredRoutes, type RegisteredRoute } from './support/registered-routes.js';
import { mapLimit, rawRequest, rawSocketStatus, type RawResponse } from './support/raw-http.js';
import { startTestKiln, svgOf, type TestKiln } from './support/test-kiln.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Auth is decided per route (server/src/http/auth.ts), so no spelling of a private path may reach
 * its handler without a key, and no spelling may carry one company's key into another company.
 * The table is the router's own route list, so a route added later is covered without editing
 * this file. Paths are sent byte for byte over node:http: `fetch` would normalise them first.
 */

const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Exactly what answers without a key: health, the API's description, the dashboard's files. */
const PUBLIC_ROUTES = new Set(['/api', '/llms.txt', '/api/health', '/api/ready', '/api/openapi.json', '/api/docs', '/api/renderers', '/', '/*']);

const pct = (s: string) => [...s].map((c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('');
const pctFirst = (s: string) => pct(s[0]!) + s.slice(1);

interface Spelling {
  name: string;
  path: string;
  /** The router reads it as the canonical path: auth itself (not a missing route) must refuse it. */
  same?: true;
  /** Not a valid URL (a broken percent-escape, invalid UTF-8): 400 from the router, before auth. */
  malformed?: true;
}

/**
 * Ways to write one path that a router, a proxy or a string check might read differently.
 * `segs` is the canonical path split on `/` (without the leading empty one); `id` is the index
 * of the company id; `port` is for the absolute-form request target.
 */
function spellingsOf(segs: string[], id: number, port: number, otherCompanyId: string): Spelling[] {
  const join = (s: string[]) => '/' + s.join('/');
  const at = (i: number, f: (s: string) => string) => segs.map((s, j) => (j === i ? f(s) : s));
  const tail = (from: number) => segs.slice(from).join('/');
  const canonical = join(segs);
  const last = segs.length - 1;
  const list: Spelling[] = [
    { name: 'canonical', path: canonical, same: true },
    // Percent-encoded letters: the router decodes them, so these are the route itself.
    { name: '%61pi', path: join(at(0, pctFirst)), same: true },
    { name: '%61%70%69', path: join(at(0, pct)), same: true },
    { name: '%63ompanies', path: join(at(1, pctFirst)), same: true },
    { name: 'encoded id character', path: join(at(id, pctFirst)), same: true },
    { name: 'encoded id dashes', path: join(at(id, (s) => s.replace(/-/g, '%2D'))), same: true },
    { name: 'encoded last segment', path: join(at(last, pctFirst)), same: true },
    { name: 'every segment encoded but the id', path: join(segs.map((s, j) => (j === id ? s : pct(s)))), same: true },
    { name: 'every character encoded', path: join(segs.map(pct)), same: true },
    { name: 'lower-case escapes', path: join(at(0, (s) => pct(s).toLowerCase())), same: true },
    { name: 'double-encoded %2561', path: join(at(0, (s) => '%2561' + s.slice(1))) },
    // Slashes.
    { name: '%2F after api', path: '/api%2F' + tail(1) },
    { name: '%2f after the id', path: '/' + segs.slice(0, id + 1).join('/') + (id < last ? '%2f' + tail(id + 1) : '%2f') },
    { name: 'every slash %2F', path: '/' + segs.join('%2F') },
    { name: '%252F after api', path: '/api%252F' + tail(1) },
    { name: 'leading //', path: '/' + canonical },
    { name: '// after api', path: '/api//' + tail(1) },
    { name: '// before the id', path: '/' + segs.slice(0, id).join('/') + '//' + tail(id) },
    { name: 'trailing slash', path: canonical + '/' },
    { name: 'trailing //', path: canonical + '//' },
    { name: 'backslashes', path: '/' + segs.join('\\') },
    { name: '%5C after api', path: '/api%5C' + tail(1) },
    { name: 'fullwidth solidus', path: '/api%EF%BC%8F' + tail(1) },
    // Dot segments.
    { name: '/./ first', path: '/.' + canonical },
    { name: '/./ after api', path: '/api/./' + tail(1) },
    { name: 'trailing /.', path: canonical + '/.' },
    { name: '/x/../ first', path: '/x/..' + canonical },
    { name: '/api/x/../', path: '/api/x/../' + tail(1) },
    { name: 'other company/../', path: '/' + segs.slice(0, id).join('/') + `/${otherCompanyId}/../` + tail(id) },
    { name: 'trailing /..', path: canonical + '/..' },
    { name: '%2e segment', path: '/api/%2e/' + tail(1) },
    { name: '%2e%2e segment', path: '/api/x/%2e%2e/' + tail(1) },
    { name: '..%2F', path: '/api/x/..%2F' + tail(1) },
    { name: 'overlong UTF-8 dots', path: '/api/x/%c0%ae%c0%ae/' + tail(1), malformed: true },
    // Case.
    { name: '/API', path: join(at(0, (s) => s.toUpperCase())) },
    { name: '/Api', path: join(at(0, (s) => s[0]!.toUpperCase() + s.slice(1))) },
    { name: '/%41pi', path: join(at(0, (s) => '%41' + s.slice(1))) },
    { name: 'COMPANIES', path: join(at(1, (s) => s.toUpperCase())) },
    { name: 'upper-case id', path: join(at(id, (s) => s.toUpperCase())) },
    { name: 'upper-case last segment', path: join(at(last, (s) => s.toUpperCase())) },
    { name: 'all upper case', path: canonical.toUpperCase() },
    { name: 'dotless i', path: '/ap%C4%B1/' + tail(1) },
    // Matrix parameters and delimiters.
    { name: '/api;x', path: join(at(0, (s) => s + ';x')) },
    { name: '/api;', path: join(at(0, (s) => s + ';')) },
    { name: 'companies;x', path: join(at(1, (s) => s + ';x')) },
    { name: 'id;x', path: join(at(id, (s) => s + ';x')) },
    { name: 'trailing ;x', path: canonical + ';x' },
    { name: '%3B', path: join(at(0, (s) => s + '%3Bx')) },
    { name: 'query', path: canonical + '?x=1', same: true },
    // `/api?/…` would be the public index itself, not a spelling of this route; a query after the
    // company id reaches a private route (the company) instead.
    { name: 'query after the company id', path: join(at(2, (s) => s + '?')) },
    { name: 'fragment', path: canonical + '#x', same: true },
    { name: '%23', path: canonical + '%23x' },
    // Control and odd characters.
    { name: '%00 after api', path: '/api%00/' + tail(1) },
    { name: '%00 in the id', path: join(at(id, (s) => s + '%00')) },
    { name: 'trailing %00', path: canonical + '%00' },
    { name: '%00 first', path: '/%00' + canonical },
    { name: 'trailing %20', path: canonical + '%20' },
    { name: '%09 after api', path: '/api%09/' + tail(1) },
    { name: '%0a in the id', path: join(at(id, (s) => s + '%0a')) },
    { name: 'bare %', path: join(at(id, (s) => s + '%')), malformed: true },
    { name: '%zz', path: '/api%zz/' + tail(1), malformed: true },
    { name: '%ff', path: join(at(id, (s) => s + '%ff')), malformed: true },
    // Past the router's maxParamLength (100); the dashboard's catch-all route then answers 404.
    { name: 'over-long id', path: join(at(id, (s) => s + 'a'.repeat(200))) },
    // Request targets that are not origin-form.
    { name: 'absolute form', path: `http://127.0.0.1:${port}${canonical}`, same: true },
    { name: 'absolute form, other host', path: `http://evil.example${canonical}`, same: true },
    // Combinations.
    { name: '%61pi + // + %63ompanies + /./', path: '/%61pi//%63ompanies/./' + tail(id) },
    { name: '/API/x/../companies', path: '/API/x/../' + tail(1) },
    { name: '%41pi;x + // + %2e', path: '/%41pi;x//' + segs[1] + '/%2e/' + tail(id) },
    { name: 'fully decodable mix', path: '/' + segs.map((s, j) => (j === id ? s.replace(/-/g, '%2d') : pctFirst(s))).join('/'), same: true },
    { name: './x/.. + trailing slash + ;', path: '/api/./x/../' + tail(1) + ';x/' },
    { name: '%2F + upper id', path: '/api%2Fcompanies/' + tail(id).toUpperCase() },
    { name: '// + %00 + trailing /', path: '//api/' + tail(1) + '%00/' },
  ];
  return list;
}

interface TableRow {
  route: RegisteredRoute;
  spelling: Spelling;
}

let kiln: TestKiln;
let receiver: WebhookReceiver;
let port: number;
let companyA: string;
let companyB: string;
let adminKey: string;
let keyA: string;
let keyB: string;
/** Real ids of company A, filled into the route parameters. */
let ids: Record<string, string>;
let queuedJobId: string;
let previewAssetId: string;

/** A small valid JSON body for each route that takes one. */
function bodyFor(route: RegisteredRoute): string | undefined {
  if (route.method === 'PATCH') return JSON.stringify({ name: 'Renamed by a bypass' });
  if (route.method !== 'POST') return undefined;
  if (route.url.endsWith('/content-jobs')) return JSON.stringify({ kind: 'image', input: { svg: svgOf('#123456') } });
  if (route.url === '/api/companies') return JSON.stringify({ name: 'Created by a bypass' });
  return '{}';
}

const fill = (url: string, values: Record<string, string>) => url.replace(/:(\w+)/g, (_, name) => {
  const v = values[name];
  if (!v) throw new Error(`no value for :${name} in ${url}`);
  return v;
});

/** A connection-level failure comes back as status 0 with the error, so it is listed with the rest. */
async function send(route: RegisteredRoute, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest({ port, method: route.method, path, headers, body: bodyFor(route) }).catch((err: Error) => ({
    status: 0,
    headers: {},
    text: `(no HTTP answer: ${err.message})`,
    json: undefined,
  }));
}

/** What company A looks like to the database: a handler that ran would change one of these. */
async function stateOfA() {
  const q = (sql: string) => kiln.database.pool.query(sql, [companyA]).then((r) => r.rows[0]);
  return {
    company: await q(`SELECT name, webhook_secret, max_queued_jobs FROM companies WHERE id = $1`),
    jobs: await q(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'canceled')::int AS canceled FROM content_jobs WHERE company_id = $1`),
    assets: await q(`SELECT count(*)::int AS n FROM assets WHERE company_id = $1`),
    deliveries: await q(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE company_id = $1`),
    companies: (await kiln.database.pool.query(`SELECT count(*)::int AS n FROM companies`)).rows[0],
  };
}

function expectErrorBody(res: RawResponse, what: string) {
  if (res.headers['content-length'] === '0' || res.text === '') return; // HEAD
  expect(res.json?.error, `${what}: ${res.text.slice(0, 200)}`).toMatchObject({ code: expect.any(String), message: expect.any(String) });
}

function describeFailures(rows: { what: string; res: RawResponse }[]) {
  return rows.map(({ what, res }) => `${what} → ${res.status} ${res.text.slice(0, 120)}`).join('\n');
}

let privateRoutes: RegisteredRoute[];
let companyRoutes: RegisteredRoute[];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // No worker in the Kiln under test: nothing happens to a job unless a request does it. The rate
  // limit is off because this file is about who may reach a handler, not how often.
  const env = { KILN_DEPLOYMENT_MODE: 'authenticated', KILN_RATE_LIMIT_PER_SECOND: '0', KILN_WEBHOOK_ALLOW_PRIVATE: 'true' };
  kiln = await startTestKiln(env, { worker: false });
  port = Number(new URL(kiln.url).port);
  const companies = companyService(kiln.database.pool);
  const keys = apiKeyService(kiln.database.pool);
  companyA = (await companies.create({ name: 'Acme' })).id;
  companyB = (await companies.create({ name: 'Globex' })).id;
  adminKey = (await keys.create({ companyId: null, name: 'admin' })).key;
  keyA = (await keys.create({ companyId: companyA, name: 'acme' })).key;
  keyB = (await keys.create({ companyId: companyB, name: 'globex' })).key;

  // One job of A rendered (so it has assets) with a webhook delivered (so it has a delivery id),
  // by a worker-only Kiln on the same database and disk that is stopped afterwards.
  const created = await kiln.api(
    'POST',
    `/api/companies/${companyA}/content-jobs`,
    { kind: 'image', input: { svg: svgOf('#0f766e') }, webhookUrl: `${receiver.url}/hook` },
    as(keyA),
  );
  expect(created.status).toBe(202);
  const jobId = created.body.jobId;
  const worker = await startTestKiln(env, { api: false, databaseUrl: kiln.databaseUrl, dataDir: kiln.dataDir });
  let job: any;
  let deliveryId: string;
  try {
    for (;;) {
      job = (await kiln.api('GET', `/api/companies/${companyA}/content-jobs/${jobId}`, undefined, as(keyA))).body;
      const deliveries = (await kiln.api('GET', `/api/companies/${companyA}/content-jobs/${jobId}/webhook-deliveries`, undefined, as(keyA))).body;
      const delivered = deliveries.items?.find((d: any) => d.deliveredAt);
      if (delivered && ['done', 'failed', 'canceled'].includes(job.status)) {
        deliveryId = delivered.id;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await worker.cleanup();
  }
  expect(job.status).toBe('done');
  ids = { companyId: companyA, jobId, assetId: job.assets.find((a: any) => a.role === 'primary').id, deliveryId: deliveryId! };
  previewAssetId = job.assets.find((a: any) => a.role === 'preview').id;
  const queued = await kiln.api('POST', `/api/companies/${companyA}/content-jobs`, { kind: 'image', input: { svg: svgOf('#aa0000') } }, as(keyA));
  expect(queued.status).toBe(202);
  queuedJobId = queued.body.jobId;

  const all = registeredRoutes(kiln.app!);
  privateRoutes = all.filter((r) => !PUBLIC_ROUTES.has(r.url));
  companyRoutes = all.filter((r) => r.url.includes(':companyId'));
});
afterAll(async () => {
  await kiln?.cleanup();
  await receiver?.close();
});

function table(routes: RegisteredRoute[]): TableRow[] {
  return routes.flatMap((route) => {
    const segs = fill(route.url, ids).split('/').slice(1);
    const idIndex = route.url.split('/').slice(1).indexOf(':companyId');
    // Routes without a company id (`/api/companies`) get the same treatment on their second segment.
    const canonical = '/' + segs.join('/');
    // A spelling that changes nothing on a short path (`/mcp` has no second segment) is not a spelling.
    return spellingsOf(segs, idIndex === -1 ? 1 : idIndex, port, companyB)
      .filter((spelling) => spelling.same || spelling.path !== canonical)
      .map((spelling) => ({ route, spelling }));
  });
}

describe('the route table', () => {
  it('comes from the router and covers every company route with every method it has', () => {
    expect(companyRoutes.length).toBeGreaterThanOrEqual(20);
    const methods = new Set(companyRoutes.map((r) => r.method));
    for (const m of ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']) expect(methods, m).toContain(m);
    // Everything private is under /api/, or is the MCP endpoint or Prometheus's conventional
    // /metrics (the dashboard's files are public).
    for (const r of privateRoutes) expect(r.url, `${r.method} ${r.url}`).toMatch(/^\/(api\/|mcp$|metrics$)/);
  });
});

interface Tried {
  row: TableRow;
  what: string;
  res: RawResponse;
}

async function tryAll(rows: TableRow[], headers: Record<string, string>): Promise<Tried[]> {
  return mapLimit(rows, 8, async (row) => ({
    row,
    what: `${row.route.method} ${row.spelling.path} (${row.route.url}: ${row.spelling.name})`,
    res: await send(row.route, row.spelling.path, headers),
  }));
}

describe('authenticated mode: no spelling of a path gets past auth', () => {
  it('without a key, every spelling of every private route answers 401, 404 or 400 — and no handler runs', async () => {
    const before = await stateOfA();
    const rows = table(privateRoutes);
    expect(rows.length).toBeGreaterThanOrEqual(1000);
    const results = await tryAll(rows, {});
    const bad = results.filter(({ res }) => ![400, 401, 404].includes(res.status));
    expect(bad, describeFailures(bad)).toEqual([]);
    for (const { what, res } of results) expectErrorBody(res, what);
    // What the router reads as the route itself (`/%61pi/…`, the old bypass) is refused by auth.
    const same = results.filter((r) => r.row.spelling.same);
    expect(same.length).toBeGreaterThanOrEqual(300);
    for (const { what, res } of same) expect(res.status, what).toBe(401);
    for (const { what, res, row } of results.filter((r) => r.row.spelling.malformed)) {
      expect(res.status, what).toBe(400);
      if (row.route.method !== 'HEAD') expect(res.json.error.code, what).toBe('validation_failed');
    }
    expect(await stateOfA()).toEqual(before);
  });

  it("with company B's key, no spelling of a company A route answers 2xx or 5xx — and no handler changes A", async () => {
    const before = await stateOfA();
    const rows = table(companyRoutes);
    expect(rows.length).toBeGreaterThanOrEqual(1000);
    const results = await tryAll(rows, as(keyB));
    const bad = results.filter(({ res }) => ![400, 401, 403, 404].includes(res.status));
    expect(bad, describeFailures(bad)).toEqual([]);
    for (const { what, res } of results) expectErrorBody(res, what);
    // Reaching the route with B's key is answered as if company A did not exist.
    for (const { what, res, row } of results.filter((r) => r.row.spelling.same)) {
      expect(res.status, what).toBe(404);
      if (row.route.method !== 'HEAD') expect(res.json.error.code, what).toBe('company_not_found');
    }
    expect(await stateOfA()).toEqual(before);
  });

  it('with an admin key, the canonical spelling of every company route works (the table is real)', async () => {
    // Last, because it changes things: a job is created, one canceled, a secret rotated, a preview deleted.
    for (const route of companyRoutes) {
      const values = { ...ids };
      if (route.url.endsWith('/cancel')) values.jobId = queuedJobId;
      if (route.method === 'DELETE') values.assetId = previewAssetId;
      const res = await send(route, fill(route.url, values), as(adminKey));
      expect(res.status, `${route.method} ${route.url}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `${route.method} ${route.url}: ${res.text.slice(0, 200)}`).toBeLessThan(300);
    }
  });

  it('request targets the HTTP parser refuses answer 400 before Kiln sees them', async () => {
    for (const target of [`api/companies/${companyA}/content-jobs`, 'api', `api/companies`]) {
      expect(await rawSocketStatus(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`), target).toBe(400);
    }
  });
});

describe('authenticated mode: public routes and malformed keys', () => {
  it('exactly the public routes answer without a key; every other registered route is 401', async () => {
    const all = registeredRoutes(kiln.app!);
    for (const url of PUBLIC_ROUTES) expect(all.map((r) => r.url), url).toContain(url);
    for (const route of all) {
      const path = route.url === '/*' ? '/no-such-file.js' : fill(route.url, ids);
      const res = await send(route, path);
      const what = `${route.method} ${path}: ${res.status} ${res.text.slice(0, 200)}`;
      if (!PUBLIC_ROUTES.has(route.url)) expect(res.status, what).toBe(401);
      else if (route.url.startsWith('/api/') || route.url === '/api' || route.url === '/llms.txt') expect(res.status, what).toBe(200);
      // The dashboard: 200 once built (503 with a hint when ui/dist is missing); a missing file 404.
      else if (route.url === '/') expect([200, 503], what).toContain(res.status);
      else expect(res.status, what).toBe(404);
      // A stale or wrong key does not lock anyone out of what is public.
      if (PUBLIC_ROUTES.has(route.url)) expect((await send(route, path, as('kiln_wrong'))).status, `${what} with a wrong key`).toBe(res.status);
    }
  });

  it('a private route with a malformed Authorization header answers 401, never 500', async () => {
    const route = { method: 'GET', url: '/api/companies/:companyId/content-jobs' };
    const path = fill(route.url, ids);
    const headers = [
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      keyA, // the key without "Bearer"
      'Bearer',
      'Bearer ',
      'Bearer    ',
      `Bearer ${'a'.repeat(10 * 1024)}`,
      `Bearer ${keyA.slice(0, -1)}`,
      `Bearer ${keyA} ${keyA}`,
      `Bearer ${keyA},Bearer ${keyA}`,
      `Bearer ${keyA}\u00e9`,
      "Bearer ' OR '1'='1",
      'Bearer %00',
      `Token ${keyA}`,
      `BearerX ${keyA}`,
    ];
    for (const authorization of headers) {
      const res = await send(route, path, { authorization });
      expect(res.status, authorization.slice(0, 60)).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
    }
    expect((await send(route, path, as(keyA))).status).toBe(200);
  });
});

describe('local_trusted mode: only loopback, only this origin', () => {
  let local: TestKiln;
  let localPort: number;
  let jobsPath: string;
  const job = JSON.stringify({ kind: 'image', input: { svg: svgOf('#336699') } });
  const jobCount = async () =>
    (await local.database.pool.query(`SELECT count(*)::int AS n FROM content_jobs WHERE company_id = $1`, [local.companyId])).rows[0].n as number;
  const get = (path: string, headers: Record<string, string> = {}, host?: string) => rawRequest({ port: localPort, method: 'GET', path, headers, host });
  const post = (headers: Record<string, string> = {}, host?: string) => rawRequest({ port: localPort, method: 'POST', path: jobsPath, headers, host, body: job });

  beforeAll(async () => {
    local = await startTestKiln({}, { worker: false });
    localPort = Number(new URL(local.url).port);
    jobsPath = `/api/companies/${local.companyId}/content-jobs`;
  });
  afterAll(async () => local?.cleanup());

  it('refuses a Host that is not loopback (DNS rebinding) with 403, and writes nothing', async () => {
    const before = await jobCount();
    for (const host of ['evil.example', `evil.example:${localPort}`, `127.0.0.1.evil.example:${localPort}`, `localhost.evil.example`, `127.0.0.1:${localPort}@evil.example`, `[::1].evil.example`, `0.0.0.0:${localPort}`]) {
      for (const path of [jobsPath, '/api/companies', `/api/companies/${local.companyId}`]) {
        const res = await get(path, {}, host);
        expect(res.status, `${host} ${path}`).toBe(403);
        expect(res.json.error.code).toBe('forbidden');
      }
      expect((await post({}, host)).status, host).toBe(403);
    }
    // An empty Host, and HTTP/1.0 without any (node:http would fill in its own).
    expect(await rawSocketStatus(localPort, `GET /api/companies HTTP/1.1\r\nHost: \r\n\r\n`)).toBe(403);
    expect(await rawSocketStatus(localPort, `GET /api/companies HTTP/1.0\r\n\r\n`)).toBe(403);
    expect(await jobCount()).toBe(before);
  });

  it('accepts the loopback spellings of Host', async () => {
    for (const host of [`127.0.0.1:${localPort}`, `localhost:${localPort}`, `LOCALHOST:${localPort}`, `[::1]:${localPort}`, '127.0.0.1', 'localhost', '[::1]']) {
      const res = await get(jobsPath, {}, host);
      expect(res.status, host).toBe(200);
    }
  });

  it('refuses a browser Origin other than its own on a POST (403, no job) and on a GET', async () => {
    const before = await jobCount();
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${localPort}`,
      'null', // sandboxed frames, file: pages
      `http://127.0.0.1:${localPort + 1 > 65535 ? localPort - 1 : localPort + 1}`,
      `https://127.0.0.1:${localPort}.evil.example`,
      'not a url',
    ]) {
      const res = await post({ origin });
      expect(res.status, origin).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
      expect((await get(jobsPath, { origin })).status, origin).toBe(403);
    }
    expect(await jobCount()).toBe(before);
  });

  it("accepts the dashboard's own origin, and requests without Origin (CLI, SDK)", async () => {
    const before = await jobCount();
    const own = await post({ origin: `http://127.0.0.1:${localPort}` });
    expect(own.status, own.text).toBe(202);
    const ownLocalhost = await post({ origin: `http://localhost:${localPort}` }, `localhost:${localPort}`);
    expect(ownLocalhost.status, ownLocalhost.text).toBe(202);
    const cli = await post();
    expect(cli.status, cli.text).toBe(202);
    expect((await get(jobsPath)).status).toBe(200);
    expect(await jobCount()).toBe(before + 3);
  });
});
