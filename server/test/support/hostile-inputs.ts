import type { RegisteredRoute } from './registered-routes.js';
import type { HostileRequest, Seeded } from './hostile-http.js';

/**
 * The generated half of the hostile-input test: requests built from the router's route list and
 * the OpenAPI document, by category — here what goes in the URL and the headers (paths, query,
 * keys, conditional and range headers, raw HTTP); bodies are in hostile-bodies.ts. Everything here is deterministic (a seeded generator picks
 * where a choice is made), so a failure names a request that the next run sends again.
 */

export interface HostileContext {
  routes: RegisteredRoute[];
  openapi: any;
  mode: 'authenticated' | 'local_trusted';
  /** Bearer keys (authenticated mode). */
  keys: { admin: string; acme: string; globex: string; revoked: string };
  /** Real rows the requests aim at: acme's (the target) and globex's (the other tenant). */
  ids: {
    acme: string;
    globex: string;
    acmeJob: string;
    acmeAsset: string;
    acmeDelivery: string;
    globexJob: string;
    globexAsset: string;
  };
  /** The acme asset's size and ETag (for Range and conditional requests). */
  asset: { size: number; etag: string };
  /** A tiny SVG that renders in milliseconds, for the few requests that must be valid to reach a header's parser. */
  cheapSvg: string;
}

/** Routes that answer without a key (auth-path-spellings.test.ts holds the same list). */
export const PUBLIC_ROUTES = new Set(['/api', '/llms.txt', '/api/health', '/api/ready', '/api/openapi.json', '/api/docs', '/api/renderers', '/', '/*']);

export const JSON_TYPE = { 'content-type': 'application/json' };
/** UTF-8 bytes as a latin1 string: what node:http sends byte for byte in a header. */
export const utf8Bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

export function auth(ctx: HostileContext, who: 'admin' | 'acme' | 'globex' | 'none' = 'admin'): Record<string, string> {
  if (ctx.mode === 'local_trusted' || who === 'none') return {};
  return { authorization: `Bearer ${ctx.keys[who]}` };
}

/** The route's URL with every parameter filled from `values` (acme's rows unless overridden). */
function fill(ctx: HostileContext, url: string, values: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    companyId: ctx.ids.acme,
    jobId: ctx.ids.acmeJob,
    assetId: ctx.ids.acmeAsset,
    deliveryId: ctx.ids.acmeDelivery,
    '*': 'index.html',
    ...values,
  };
  return url.replace(/:(\w+)|\*/g, (m, name: string | undefined) => base[name ?? '*'] ?? m);
}

const paramsOf = (url: string) => [...url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
const isCompanyRoute = (r: RegisteredRoute) => r.url.startsWith('/api/companies/:companyId');
/** A route that changes something: bad ids only, never another spelling of a real one. */
const writes = (r: RegisteredRoute) => !['GET', 'HEAD'].includes(r.method);

/** Path segments that are no valid id (already percent-encoded), and other spellings of a real one. */
function badSegments(realId: string): { value: string; what: string; sameRow?: true }[] {
  const uuid = /^[0-9a-f-]{36}$/.test(realId);
  const spellings = [
    { value: realId.slice(0, -1), what: 'a uuid one character short' },
    { value: realId + '0', what: 'a uuid one character long' },
    { value: realId.replace(/[0-9a-f]/, 'z'), what: 'a uuid with a non-hex digit' },
    { value: realId.toUpperCase(), what: 'the real id in capitals', sameRow: true as const },
    { value: `%7B${realId}%7D`, what: 'the real id in braces (PostgreSQL reads it)' },
    { value: realId.replace(/-/g, ''), what: 'the real id without dashes (PostgreSQL reads it)' },
  ];
  return [
    ...(uuid ? spellings : []),
    { value: 'x', what: 'a letter' },
    { value: '0', what: 'zero' },
    { value: '-1', what: 'negative' },
    { value: '1.5', what: 'a fraction' },
    { value: '1e3', what: 'an exponent' },
    { value: 'null', what: 'null' },
    { value: 'undefined', what: 'undefined' },
    { value: '%5B%5D', what: '[]' },
    { value: '%7B%7D', what: '{}' },
    { value: '00000000-0000-0000-0000-000000000000', what: 'the nil uuid' },
    { value: 'ffffffff-ffff-ffff-ffff-ffffffffffff', what: 'the max uuid' },
    { value: 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', what: 'uuid-shaped letters' },
    { value: '%00', what: 'NUL' },
    { value: `${realId}%00`, what: 'the real id then NUL' },
    { value: '%ED%A0%80', what: 'a lone surrogate (CESU-8 bytes)' },
    { value: '%ED%B3%BF', what: 'a lone low surrogate (CESU-8 bytes)' },
    { value: '%C0%80', what: 'an overlong NUL' },
    { value: '%C0%AE%C0%AE', what: 'overlong dots' },
    { value: '%FF', what: 'a byte that is never UTF-8' },
    { value: '%F4%90%80%80', what: 'a code point past U+10FFFF' },
    { value: '%EF%BF%BF', what: 'the noncharacter U+FFFF' },
    { value: '%', what: 'a bare percent' },
    { value: '%zz', what: 'a broken escape' },
    { value: '%E2%80%AE' + realId, what: 'RTL override then the id' },
    { value: 'e%CC%81%CC%81%CC%81', what: 'combining accents' },
    { value: '%F0%9F%98%80', what: 'an emoji' },
    { value: '9223372036854775807', what: 'the largest bigint' },
    { value: '9223372036854775808', what: 'the largest bigint + 1' },
    { value: '9999999999999999999', what: '19 nines' },
    { value: '99999999999999999999999999', what: '26 nines' },
    { value: '0x10', what: 'hex' },
    { value: '%20', what: 'a space' },
    { value: 'a'.repeat(101), what: '101 characters (past maxParamLength)' },
    { value: 'a'.repeat(5000), what: '5,000 characters' },
    { value: "'%20OR%201=1--", what: 'SQL' },
    { value: '%2e%2e', what: 'encoded ..' },
    { value: 'default', what: 'default' },
    { value: '%5Cu0000', what: 'a written-out \\u0000' },
  ];
}

/** Every parameter of every route, replaced by every bad segment (GET and HEAD also get other spellings of the real id). */
export function pathParameterRequests(ctx: HostileContext, rnd: Seeded): HostileRequest[] {
  const out: HostileRequest[] = [];
  const realOf: Record<string, string> = { companyId: ctx.ids.acme, jobId: ctx.ids.acmeJob, assetId: ctx.ids.acmeAsset, deliveryId: ctx.ids.acmeDelivery, '*': 'index.html' };
  for (const route of ctx.routes) {
    for (const param of paramsOf(route.url)) {
      for (const seg of badSegments(realOf[param]!)) {
        if (seg.sameRow && writes(route)) continue;
        // HEAD runs GET's handler: half of the values are enough to show it answers the same way.
        if (route.method === 'HEAD' && rnd.next() < 0.5) continue;
        const who = isCompanyRoute(route) ? rnd.pick(['admin', 'admin', 'acme'] as const) : 'admin';
        const path = fill(ctx, route.url, { [param]: seg.value });
        // local_trusted reads `default` as the default company: a real id, not a bad one.
        const real = seg.sameRow || param === '*' || (ctx.mode === 'local_trusted' && seg.value === 'default' && param === 'companyId');
        const upload = route.method === 'POST' && route.url.endsWith('/assets');
        out.push({
          category: 'path parameters',
          label: `${route.method} ${route.url} ${param}=${seg.what} as ${who}`,
          method: route.method,
          path,
          headers: { ...auth(ctx, who), ...(writes(route) ? { 'content-type': upload ? 'text/plain' : 'application/json' } : {}) },
          body: writes(route) ? (upload ? 'hello' : '{}') : undefined,
          expect: real ? undefined : { notAccepted: true },
        });
      }
    }
  }
  return out;
}

/** Another company's key on every company route, and every company route with another company's ids. */
export function crossTenantRequests(ctx: HostileContext): HostileRequest[] {
  const out: HostileRequest[] = [];
  const { ids } = ctx;
  const acmeRows = { companyId: ids.acme, jobId: ids.acmeJob, assetId: ids.acmeAsset, deliveryId: ids.acmeDelivery };
  const add = (route: RegisteredRoute, label: string, who: 'admin' | 'acme' | 'globex', values: Record<string, string>, expectCode?: string) => {
    const upload = route.url.endsWith('/assets') && route.method === 'POST';
    out.push({
      category: 'other tenant',
      label: `${route.method} ${route.url}: ${label}`,
      method: route.method,
      path: fill(ctx, route.url, values),
      headers: { ...auth(ctx, who), ...(writes(route) ? { 'content-type': upload ? 'text/plain' : 'application/json' } : {}) },
      body: writes(route) ? (upload ? 'hello' : route.method === 'PATCH' ? '{"name":"taken over"}' : '{}') : undefined,
      expect: { status: [404], ...(expectCode && route.method !== 'HEAD' ? { code: expectCode } : {}) },
    });
  };
  for (const route of ctx.routes.filter(isCompanyRoute)) {
    add(route, "globex's key, acme's rows", 'globex', acmeRows, 'company_not_found');
    add(route, "acme's key, globex's company", 'acme', { companyId: ids.globex, jobId: ids.globexJob, assetId: ids.globexAsset }, 'company_not_found');
    const others = paramsOf(route.url).filter((p) => p !== 'companyId');
    if (others.length === 0) continue;
    const code = others.includes('assetId') ? 'asset_not_found' : others.includes('deliveryId') ? 'webhook_delivery_not_found' : 'job_not_found';
    add(route, "globex's key and company, acme's ids", 'globex', { ...acmeRows, companyId: ids.globex }, code);
    add(route, "admin key, globex's company, acme's ids", 'admin', { ...acmeRows, companyId: ids.globex }, code);
  }
  // Inputs that name another company's assets: refused before queueing, as if they did not exist.
  const theirs = ids.globexAsset;
  const inputs: [string, string, unknown][] = [
    ['card logo', 'image', { mode: 'card', title: 'x', logoAssetId: theirs }],
    ['card background', 'image', { mode: 'card', title: 'x', backgroundAssetId: theirs }],
    ['chart data', 'chart', { dataAssetId: theirs, spec: { mark: 'point' } }],
    ['document image', 'document', { markdown: `![x](asset:${theirs})` }],
    ['video scene', 'video', { scenes: [{ visual: { type: 'asset', assetId: theirs } }] }],
    ['video soundtrack', 'video', { scenes: [{ visual: { type: 'card', card: { title: 'x' } } }], soundtrack: { type: 'asset', assetId: theirs } }],
  ];
  for (const [what, kind, input] of inputs) {
    out.push({
      category: 'other tenant',
      label: `${kind} input with globex's asset as ${what}`,
      method: 'POST',
      path: `/api/companies/${ids.acme}/content-jobs`,
      headers: { ...auth(ctx, 'acme'), ...JSON_TYPE },
      body: JSON.stringify({ kind, input }),
      expect: { status: [404], code: 'asset_not_found' },
    });
  }
  // Filters that name another company's rows find nothing.
  for (const q of [`jobId=${ids.acmeJob}`, `sourceTaskId=hostile-fixture`]) {
    out.push({
      category: 'other tenant',
      label: `globex lists its assets by acme's ${q}`,
      method: 'GET',
      path: `/api/companies/${ids.globex}/assets?${q}`,
      headers: auth(ctx, 'globex'),
      expect: { status: [200] },
      check: (a) => (a.json?.items?.length === 0 ? null : `found ${a.json?.items?.length} of acme's assets`),
    });
  }
  // Admin-only routes with a company key.
  out.push(
    { category: 'other tenant', label: 'acme key creates a company', method: 'POST', path: '/api/companies', headers: { ...auth(ctx, 'acme'), ...JSON_TYPE }, body: '{"name":"x"}', expect: { status: [403], code: 'forbidden' } },
    { category: 'other tenant', label: 'acme key patches its own company', method: 'PATCH', path: `/api/companies/${ids.acme}`, headers: { ...auth(ctx, 'acme'), ...JSON_TYPE }, body: '{"maxQueuedJobs":1000000}', expect: { status: [403], code: 'forbidden' } },
  );
  return out;
}

/** Malformed and wrong Authorization headers on every private route. */
export function authRequests(ctx: HostileContext, rnd: Seeded): HostileRequest[] {
  const { admin, acme, revoked } = ctx.keys;
  const values: [string, string | string[]][] = [
    ['none', ''],
    ['Bearer alone', 'Bearer'],
    ['Bearer and a space', 'Bearer '],
    ['lower-case bearer, no key', 'bearer'],
    ['Basic', 'Basic YWRtaW46YWRtaW4='],
    ['Token scheme', `Token ${admin}`],
    ['the key without a scheme', admin],
    ['a 513-character key', `Bearer ${'k'.repeat(513)}`],
    ['the key plus a character', `Bearer ${admin}x`],
    ['the key minus a character', `Bearer ${admin.slice(0, -1)}`],
    ['the key in capitals', `Bearer ${admin.toUpperCase()}`],
    ['the key and more words', `Bearer ${admin} extra`],
    ['a revoked key', `Bearer ${revoked}`],
    ['latin1 bytes', `Bearer ${utf8Bytes('ключ')}`],
    ['NUL written out', 'Bearer \\u0000'],
    ['the sha256 of nothing', 'Bearer e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['SQL', "Bearer ' OR '1'='1"],
    ['two headers: bad then the admin key', ['Bearer nope', `Bearer ${admin}`]],
    ['a comma-joined pair', `Bearer nope, Bearer ${acme}`],
  ];
  const out: HostileRequest[] = [];
  for (const route of ctx.routes.filter((r) => !PUBLIC_ROUTES.has(r.url))) {
    for (const [what, value] of values) {
      if (route.method === 'HEAD' && rnd.next() < 0.5) continue;
      const headers: Record<string, string | string[]> = value === '' ? {} : { authorization: value };
      out.push({
        category: 'authorization',
        label: `${route.method} ${route.url}: ${what}`,
        method: route.method,
        path: fill(ctx, route.url),
        headers,
        // node:http keeps the first of repeated Authorization headers: "nope" is what is read.
        expect: { status: [401], ...(route.method === 'HEAD' ? {} : { code: 'unauthorized' }) },
      });
    }
  }
  return out;
}

const BAD_QUERY_VALUES: [string, string][] = [
  ['-1', '-1'], ['0', '0'], ['1.5', '1.5'], ['1e309', '1e309'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['-Infinity', '-Infinity'],
  ['hex', '0x10'], ['letters', 'abc'], ['empty', ''], ['NUL', '%00'], ['NUL inside', 'a%00b'], ['lone surrogate bytes', '%ED%A0%80'],
  ['overlong NUL', '%C0%80'], ['0xFF byte', '%FF'], ['bare percent', '%'], ['10,000 characters', 'a'.repeat(10_000)],
  ['26 nines', '99999999999999999999999999'], ['19 digits', '1234567890123456789'], ['leading space', '%201'], ['plus sign', '+1'],
  ['RTL override', '%E2%80%AE1'], ['emoji', '%F0%9F%98%80'], ['JSON array', '%5B1%2C2%5D'], ['JSON object', '%7B%22a%22%3A1%7D'],
  ['a uuid', '00000000-0000-4000-8000-000000000000'], ['written-out NUL', '%5Cu0000'],
];

/** Every query parameter of every operation in the OpenAPI document, with every bad value; and structural oddities. */
export function queryRequests(ctx: HostileContext): HostileRequest[] {
  const out: HostileRequest[] = [];
  for (const [template, ops] of Object.entries<any>(ctx.openapi.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const params = (op?.parameters ?? []).map((p: any) => (p.$ref ? ctx.openapi.components.parameters[p.$ref.split('/').pop()] : p));
      const query = params.filter((p: any) => p?.in === 'query');
      if (query.length === 0) continue;
      const upper = method.toUpperCase();
      const path = fill(ctx, template.replace(/\{(\w+)\}/g, ':$1'));
      const upload = upper === 'POST' && template.endsWith('/assets');
      const send = (label: string, qs: string) =>
        out.push({
          category: 'query parameters',
          label: `${upper} ${template}?${label}`,
          method: upper,
          path: `${path}?${qs}`,
          headers: { ...auth(ctx), ...(upload ? { 'content-type': 'text/plain' } : {}) },
          body: upload ? 'hello' : undefined,
        });
      for (const p of query) for (const [what, v] of BAD_QUERY_VALUES) send(`${p.name}=${what}`, `${p.name}=${v}`);
      const first = query[0].name;
      send(`${first} twice`, `${first}=1&${first}=2`);
      send(`${first}[]`, `${first}[]=1`);
      send(`${first}[a]`, `${first}[a]=1`);
      send('__proto__', `__proto__=1&__proto__[x]=1`);
      send('constructor.prototype', `constructor[prototype][x]=1`);
      send('an unknown parameter', `nope=1`);
      send('only &&&', '&&&=&=');
      send('a NUL name', `%00=1`);
      send('a lone-surrogate name', `%ED%A0%80=1`);
      send('1,000 parameters', Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&'));
    }
  }
  return out;
}

/** Last-Event-ID, Idempotency-Key, Prefer, Range, If-Range, If-None-Match and a few others, bad and odd. */
export function headerRequests(ctx: HostileContext): HostileRequest[] {
  const out: HostileRequest[] = [];
  const { ids } = ctx;
  const jobEvents = `/api/companies/${ids.acme}/content-jobs/${ids.acmeJob}/events`;
  const companyEvents = `/api/companies/${ids.acme}/events`;
  const content = `/api/companies/${ids.acme}/assets/${ids.acmeAsset}/content`;
  const jobs = `/api/companies/${ids.acme}/content-jobs`;
  const push = (label: string, method: string, path: string, headers: Record<string, string | string[]>, extra: Partial<HostileRequest> = {}) =>
    out.push({ category: 'headers', label, method, path, headers: { ...auth(ctx), ...headers }, ...extra });

  const eventIds: [string, string | string[]][] = [
    ['-1', '-1'], ['letters', 'abc'], ['1.5', '1.5'], ['19 nines', '9'.repeat(19)], ['18 nines', '9'.repeat(18)], ['0', '0'],
    ['empty', ''], ['spaces', '   '], ['latin1', utf8Bytes('１２')], ['a list', '1,2'], ['hex', '0x1'], ['two headers', ['1', '2']],
    ['1e3', '1e3'], ['+1', '+1'], ['written-out NUL', '\\u0000'],
  ];
  for (const [what, v] of eventIds) {
    push(`job events Last-Event-ID ${what}`, 'GET', jobEvents, { 'last-event-id': v });
    push(`company events Last-Event-ID ${what}`, 'GET', companyEvents, { 'last-event-id': v });
  }
  for (const since of ['-1', 'abc', '9'.repeat(19), '%00', '1e3']) push(`job events ?since=${since}`, 'GET', `${jobEvents}?since=${since}`, {});

  // Idempotency-Key is checked before the body: a bad key with a bad body is refused for its key.
  const badBody = JSON.stringify({ kind: 'image', input: { mode: 'svg' } });
  const badKeys: [string, string | string[]][] = [
    ['empty', ''], ['a space inside', 'a b'], ['201 characters', 'k'.repeat(201)], ['latin1', utf8Bytes('clé')], ['a tab', 'a\tb'],
    ['two headers', ['a', 'b']], ['10,000 characters', 'k'.repeat(10_000)],
  ];
  for (const [what, v] of badKeys) push(`Idempotency-Key ${what}`, 'POST', jobs, { ...JSON_TYPE, 'idempotency-key': v }, { body: badBody, expect: { status: [400], code: 'validation_failed' } });

  // Prefer is read after the job is accepted: these are valid jobs (a tiny SVG) with odd Prefer headers.
  const cheap = JSON.stringify({ kind: 'image', input: { mode: 'svg', svg: ctx.cheapSvg } });
  for (const v of ['wait=abc', 'wait=-1', 'wait=1e9', 'wait=99999999', 'wait', 'wait=', 'respond-async', 'wait=1.5', 'wait=0', 'wait=5, wait=abc', 'WAIT = "3"', 'return=minimal; wait=2', utf8Bytes('wait=５'), 'wait=999999']) {
    push(`Prefer: ${v}`, 'POST', jobs, { ...JSON_TYPE, prefer: v }, { body: cheap, expect: { status: [200, 202] } });
  }
  // Good keys of odd shapes, and one key reused with another body (409).
  for (const key of ['k'.repeat(200), '!~', '"quoted"', '../../etc']) {
    push(`Idempotency-Key ${key.slice(0, 20)}`, 'POST', jobs, { ...JSON_TYPE, 'idempotency-key': `hostile-${key}`.slice(0, 200) }, { body: cheap, expect: { status: [202] } });
  }

  const { size, etag } = ctx.asset;
  const ranges = [
    'bytes=', 'bytes=-0', 'bytes=5-1', 'bytes=0-0,1-1', 'bytes=0-1,-1', 'bytes=99999999999999999999-', 'bytes=0-99999999999999999999',
    'bytes=-99999999999999999999', 'bytes=18446744073709551616-', 'items=0-1', 'bytes=0x1-2', 'bytes= 0-1', 'bytes=-', '=0-1', 'bytes=0-1-2',
    'bytes=' + '0-1,'.repeat(2000), 'bytes=-1', `bytes=${size}-`, `bytes=${size - 1}-`, `bytes=0-${size}`, 'bytes=0-', 'BYTES=0-1', 'bytes =0-1',
    'bytes=1e3-', 'bytes=%00', utf8Bytes('bytes=０-１'), 'bytes=-0-', 'bytes=0--1',
  ];
  for (const method of ['GET', 'HEAD']) {
    for (const r of ranges) push(`${method} Range ${r.slice(0, 40)}`, method, content, { range: r }, { expect: { status: [200, 206, 416] } });
    for (const v of ['"wrong"', etag, `W/${etag}`, 'Mon, 01 Jan 2024 00:00:00 GMT', '', '*', etag.slice(1, -1)]) {
      push(`${method} If-Range ${v.slice(0, 30)} with a range`, method, content, { range: 'bytes=0-1', 'if-range': v }, { expect: { status: [200, 206] } });
    }
    for (const v of [etag, '*', `W/${etag}`, `${etag}, "x"`, '"x"', '', Array.from({ length: 500 }, (_, i) => `"${i}"`).join(', '), etag.slice(1, -1)]) {
      push(`${method} If-None-Match ${v.slice(0, 30)}`, method, content, { 'if-none-match': v }, { expect: { status: [200, 304] } });
    }
    push(`${method} ?download=${'1'.repeat(3)}`, method, `${content}?download=111`, {}, { expect: { status: [200] } });
  }
  // Content negotiation and proxy headers nobody asked for.
  const jobPath = `${jobs}/${ids.acmeJob}`;
  for (const [name, v] of [
    ['accept', 'text/event-stream'], ['accept', 'application/xml'], ['accept', '*/*;q=0'], ['accept-encoding', 'gzip;q=1, br, zstd, identity;q=0'],
    ['x-forwarded-for', '1.2.3.4, ::1, not-an-ip'], ['x-forwarded-host', 'evil.example'], ['x-forwarded-proto', 'gopher'], ['origin', 'null'],
    ['origin', 'http://evil.example'], ['host', 'evil.example'], ['host', `127.0.0.1:99999`], ['content-encoding', 'gzip'], ['expect', '100-continue'],
    ['x-request-id', 'a'.repeat(5000)], ['cookie', 'a=' + 'b'.repeat(5000)],
  ] as const) {
    push(`GET job with ${name}: ${v.slice(0, 30)}`, 'GET', jobPath, { [name]: v });
  }
  return out;
}

/** Requests node:http will not send: bytes on a socket. */
export function malformedHttpRequests(ctx: HostileContext): HostileRequest[] {
  const key = ctx.mode === 'authenticated' ? `Authorization: Bearer ${ctx.keys.admin}\r\n` : '';
  const job = `/api/companies/${ctx.ids.acme}/content-jobs/${ctx.ids.acmeJob}`;
  const raw = (label: string, head: string, body = '') =>
    ({ category: 'malformed HTTP', label, method: 'RAW', path: job, raw: Buffer.from(head + body, 'latin1') }) satisfies HostileRequest;
  const host = 'Host: 127.0.0.1\r\n';
  return [
    raw('a NUL in a header value', `GET ${job} HTTP/1.1\r\n${host}${key}Idempotency-Key: a\x00b\r\n\r\n`),
    raw('a NUL in the path', `GET /api/hea\x00lth HTTP/1.1\r\n${host}\r\n`),
    raw('a space in a header name', `GET ${job} HTTP/1.1\r\n${host}${key}Bad Name: x\r\n\r\n`),
    raw('bare LF line endings', `GET ${job} HTTP/1.1\n${host.trim()}\n${key.trim()}\n\n`),
    raw('an invented method', `FOO ${job} HTTP/1.1\r\n${host}${key}\r\n`),
    raw('a lower-case method', `get ${job} HTTP/1.1\r\n${host}${key}\r\n`),
    raw('HTTP/1.0 without Host', `GET /api/health HTTP/1.0\r\n\r\n`),
    raw('HTTP/1.1 without Host', `GET ${job} HTTP/1.1\r\n${key}\r\n`),
    raw('HTTP/2.0 on HTTP/1', `GET /api/health HTTP/2.0\r\n${host}\r\n`),
    raw('HTTP/9.9', `GET /api/health HTTP/9.9\r\n${host}\r\n`),
    raw('a 20 KB header', `GET ${job} HTTP/1.1\r\n${host}${key}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    raw('a 20 KB path', `GET /api/${'a'.repeat(20_000)} HTTP/1.1\r\n${host}\r\n`),
    raw('a 100,000-character Bearer key', `GET ${job} HTTP/1.1\r\n${host}Authorization: Bearer ${'k'.repeat(100_000)}\r\n\r\n`),
    raw('a bad chunk size', `POST /api/companies HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, 'zz\r\n{}\r\n0\r\n\r\n'),
    raw('Content-Length and Transfer-Encoding', `POST /api/companies HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n`, '0\r\n\r\n'),
    raw('two different Content-Lengths', `POST /api/companies HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n`, '{}'),
    raw('a negative Content-Length', `POST /api/companies HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n`, '{}'),
    raw('a Content-Length past 2^64', `POST /api/companies HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n`, '{}'),
    raw('an absolute-form target elsewhere', `GET http://evil.example/api/health HTTP/1.1\r\n${host}\r\n`),
    raw('the asterisk target', `OPTIONS * HTTP/1.1\r\n${host}\r\n`),
    raw('a target without a slash', `GET api/health HTTP/1.1\r\n${host}\r\n`),
    raw('raw UTF-8 bytes in the path', `GET /api/companies/${utf8Bytes('é')} HTTP/1.1\r\n${host}${key}\r\n`),
    raw('raw CESU-8 surrogate bytes in the path', `GET /api/companies/\xed\xa0\x80 HTTP/1.1\r\n${host}${key}\r\n`),
    raw('an obsolete folded header', `GET ${job} HTTP/1.1\r\n${host}${key}X-Folded: a\r\n b\r\n\r\n`),
    raw('a header without a colon', `GET ${job} HTTP/1.1\r\n${host}${key}NoColonHere\r\n\r\n`),
    raw('an Upgrade to websocket', `GET ${job} HTTP/1.1\r\n${host}${key}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`),
    raw('an h2c upgrade', `GET /api/health HTTP/1.1\r\n${host}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`),
    raw('the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    raw('TLS bytes', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'),
  ];
}

/** The smaller run against local_trusted: Host and Origin rules, `default`, and a sample of the rest. */
export function localTrustedExtras(ctx: HostileContext, port: number): HostileRequest[] {
  const job = `/api/companies/default/content-jobs/${ctx.ids.acmeJob}`;
  const out: HostileRequest[] = [];
  const hosts = ['evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `[::1]evil`, '', ' ', `127.0.0.1:${port}@evil.example`, utf8Bytes('lоcalhost'), '127.0.0.1:99999999', '0.0.0.0', '[::ffff:127.0.0.1]'];
  // On a socket: node:http would put its own Host in place of an empty one.
  for (const h of hosts) {
    out.push({ category: 'local_trusted Host/Origin', label: `Host ${JSON.stringify(h)}`, method: 'GET', path: job, raw: Buffer.from(`GET ${job} HTTP/1.1\r\nHost: ${h}\r\n\r\n`, 'latin1'), expect: { status: [400, 403] } });
  }
  out.push({ category: 'local_trusted Host/Origin', label: 'two Host headers', method: 'GET', path: job, raw: Buffer.from(`GET ${job} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil.example\r\n\r\n`, 'latin1'), expect: { status: [400, 403] } });
  // (Only the host is compared: an https page on this very host and port cannot exist beside Kiln.)
  const origins = ['null', 'http://evil.example', `http://127.0.0.1:${port}.evil.example`, 'file://', 'garbage', `http://localhost:${port + 1}`, `http://127.0.0.1:${port}@evil.example`, utf8Bytes('http://lоcalhost')];
  for (const o of origins) {
    out.push({ category: 'local_trusted Host/Origin', label: `Origin ${o}`, method: 'POST', path: `/api/companies/default/content-jobs`, headers: { origin: o, ...JSON_TYPE }, body: '{"kind":"image","input":{}}', expect: { status: [403], code: 'forbidden' } });
  }
  return out;
}
