import type { HostileRequest } from './hostile-http.js';
import { mutationsOf } from './hostile-schema-mutations.js';
import { bombs, pngClaiming, useBomb } from './hostile-bombs.js';
import { auth, JSON_TYPE, utf8Bytes, type HostileContext } from './hostile-inputs.js';

/**
 * The bodies of the hostile-input test (server/test/hostile-input.test.ts): JSON that is not
 * JSON, wrong Content-Types, every schema mutation the OpenAPI document implies, bodies around
 * the size limit and far past the depth limit, NUL and lone surrogates where schemas do not
 * reach, odd Unicode, uploads, and the bombs of every kind.
 */

/** JSON routes: bodies that are not JSON, JSON with oddities, wrong Content-Types, empty bodies. */
export function badJsonRequests(ctx: HostileContext): HostileRequest[] {
  const { ids } = ctx;
  // Each route's body: valid JSON that its handler refuses (so nothing is created if it is parsed).
  const routes: [string, string, string][] = [
    ['POST', '/api/companies', '{"name":""}'],
    ['PATCH', `/api/companies/${ids.acme}`, '{}'],
    ['POST', `/api/companies/${ids.acme}/content-jobs`, '{"kind":"no-such-kind","input":{}}'],
    ['POST', `/api/companies/${ids.acme}/content-jobs/${ids.acmeJob}/cancel`, '{}'],
    ['POST', `/api/companies/${ids.acme}/webhook-deliveries/0/redeliver`, '{}'],
    ['DELETE', `/api/companies/${ids.acme}/assets/00000000-0000-4000-8000-000000000000`, '{}'],
    ['POST', '/mcp', '{"jsonrpc":"2.0","id":1,"method":"nope"}'],
  ];
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const bad: [string, string | Buffer][] = [
    ['truncated object', '{'], ['truncated member', '{"kind":'], ['truncated string', '{"kind":"image'], ['unclosed array', '['], ['a lone quote', '"'],
    ['trailing garbage', '{"a":1}x'], ['two documents', '{"a":1} {"b":2}'], ['a BOM', '\uFEFF{"kind":"image"}'], ['NaN', 'NaN'],
    ['NaN member', '{"priority":NaN}'], ['Infinity member', '{"priority":Infinity}'], ['-Infinity member', '{"priority":-Infinity}'],
    ['1e400', '{"priority":1e400}'], ['-1e400', '{"priority":-1e400}'], ['30 digits', '{"priority":123456789012345678901234567890}'],
    ['hex number', '{"priority":0x10}'], ['leading zero', '{"priority":01}'], ['leading dot', '{"priority":.5}'], ['leading plus', '{"priority":+1}'],
    ['single quotes', "{'kind':'image'}"], ['bare key', '{kind:"image"}'], ['trailing comma', '{"kind":"image",}'], ['array trailing comma', '[1,]'],
    ['\\x escape', '{"a":"\\x41"}'], ['short \\u escape', '{"a":"\\u12"}'], ['raw tab in a string', '{"a":"\t"}'], ['raw newline in a string', '{"a":"\n"}'],
    ['duplicate keys', '{"kind":"image","kind":"no-such-kind","input":{}}'], ['__proto__ key', '{"__proto__":{"polluted":1},"kind":"x","input":{}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":1}},"kind":"x","input":{}}'], ['null', 'null'], ['true', 'true'], ['0', '0'],
    ['empty string', '""'], ['empty array', '[]'], ['1e400 alone', '1e400'], ['whitespace only', ' \n\t '], ['a comment', '/* c */{}'],
    ['a line comment after', '{}//c'], ['invalid UTF-8', invalidUtf8], ['UTF-16LE', Buffer.from('{"kind":"image"}', 'utf16le')],
    ['escaped lone surrogate', '{"kind":"\\ud800","input":{}}'], ['escaped NUL', '{"kind":"a\\u0000b","input":{}}'],
    ['NUL byte outside strings', '{"kind":"x",\u0000"input":{}}'], ['CESU-8 surrogate bytes', Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])],
    ['overlong UTF-8 quote', Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0xc0, 0xa2, 0x78, 0x22, 0x7d])],
  ];
  const types = [
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/json-patch+json',
    'application/jsonx', 'application/JSON', 'Application/Json; Charset=UTF-8', 'application/json; charset=utf-16', 'application/json; charset=latin1',
    'application/json;;', 'application/json, text/plain', '*/*', 'application/xml', 'image/png', ' application/json', 'application/json\t',
    utf8Bytes('application/jsön'), 'application/json; boundary=' + 'x'.repeat(5000), 'application/vnd.api+json', 'text/json',
  ];
  const out: HostileRequest[] = [];
  for (const [method, path, valid] of routes) {
    const headers = { ...auth(ctx), ...(path === '/mcp' ? { accept: 'application/json, text/event-stream' } : {}) };
    for (const [what, body] of bad) {
      out.push({ category: 'bad JSON', label: `${method} ${path}: ${what}`, method, path, headers: { ...headers, ...JSON_TYPE }, body, expect: { notAccepted: true } });
    }
    for (const type of types) {
      out.push({ category: 'Content-Type', label: `${method} ${path}: ${type.slice(0, 40)}`, method, path, headers: { ...headers, 'content-type': type }, body: valid, expect: { notAccepted: true } });
    }
    out.push(
      { category: 'empty body', label: `${method} ${path}: JSON type, no body`, method, path, headers: { ...headers, ...JSON_TYPE } },
      { category: 'empty body', label: `${method} ${path}: JSON type, Content-Length 0`, method, path, headers: { ...headers, ...JSON_TYPE }, body: '' },
      { category: 'empty body', label: `${method} ${path}: no type, a body`, method, path, headers, body: valid },
      { category: 'empty body', label: `${method} ${path}: chunked, empty`, method, path, headers: { ...headers, ...JSON_TYPE }, body: '', chunked: 1 },
      { category: 'empty body', label: `${method} ${path}: chunked JSON`, method, path, headers: { ...headers, ...JSON_TYPE }, body: valid, chunked: 3 },
    );
  }
  // Bodies on routes that take none.
  for (const path of ['/api/health', `/api/companies/${ids.acme}/content-jobs/${ids.acmeJob}`, `/api/companies/${ids.acme}/assets`]) {
    out.push({ category: 'bad JSON', label: `GET ${path} with a broken JSON body`, method: 'GET', path, headers: { ...auth(ctx), ...JSON_TYPE }, body: '{"a":' });
  }
  return out;
}

/** Every mutation of every request body schema in the OpenAPI document (and an SVG image, which no example shows). */
export function schemaRequests(ctx: HostileContext): HostileRequest[] {
  const schemas = ctx.openapi.components.schemas;
  const out: HostileRequest[] = [];
  const jobs = `/api/companies/${ctx.ids.acme}/content-jobs`;
  const bases: [string, string, string, unknown][] = [
    ['POST', '/api/companies', 'CreateCompanyBody', { name: 'Hostile Inc', maxConcurrentJobs: 2, maxQueuedJobs: 100 }],
    ['PATCH', `/api/companies/${ctx.ids.acme}`, 'UpdateCompanyBody', { name: 'Acme', maxConcurrentJobs: 4, maxQueuedJobs: 10_000 }],
    ['POST', jobs, 'CreateImageJobBody', { kind: 'image', input: { mode: 'svg', svg: ctx.cheapSvg, format: 'png', width: 64 }, sourceTaskId: 't', priority: 0, timeoutMs: 60_000, maxAttempts: 1, outputName: 'x', webhookUrl: 'http://127.0.0.1:9/hook' }],
  ];
  for (const name of Object.keys(schemas).filter((n) => /^Create\w+JobBody$/.test(n))) {
    for (const example of schemas[name].examples ?? []) bases.push(['POST', jobs, name, example]);
  }
  for (const [method, path, name, base] of bases) {
    for (const m of mutationsOf(ctx.openapi, schemas[name], base)) {
      out.push({
        category: m.unstorable ? 'NUL and surrogates' : 'schema',
        label: `${name} ${m.label}`,
        method,
        path,
        headers: { ...auth(ctx, 'admin'), ...JSON_TYPE },
        body: JSON.stringify(m.body),
        expect: m.unstorable ? { refused: true } : m.cap ? { cap: true } : { notAccepted: true },
      });
    }
  }
  return out;
}

const nest = (open: string, close: string, n: number, inner = '1') => open.repeat(n) + inner + close.repeat(n);

/** Large and deep: bodies around the 5 MiB limit, deep nesting, long strings, long arrays. */
export function hugeRequests(ctx: HostileContext): HostileRequest[] {
  const jobs = `/api/companies/${ctx.ids.acme}/content-jobs`;
  const LIMIT = 5 * 1024 * 1024;
  const svgBody = (total: number) => {
    const head = '{"kind":"image","input":{"mode":"svg","svg":"<svg xmlns=\\"http://www.w3.org/2000/svg\\"><!--';
    const tail = '--></svg>"}}';
    return head + 'x'.repeat(total - head.length - tail.length) + tail;
  };
  const headers = { ...auth(ctx), ...JSON_TYPE };
  const req = (label: string, body: string, extra: Partial<HostileRequest> = {}, path = jobs): HostileRequest => ({ category: 'huge and deep', label, method: 'POST', path, headers, body, ...extra });
  const out: HostileRequest[] = [
    req('5 MiB − 1 byte of SVG (past the SVG cap)', svgBody(LIMIT - 1), { expect: { cap: true } }),
    req('exactly 5 MiB of SVG', svgBody(LIMIT), { expect: { cap: true } }),
    req('5 MiB + 1 byte', svgBody(LIMIT + 1), { expect: { status: [413], code: 'payload_too_large' } }),
    req('5 MiB + 1 byte, chunked', svgBody(LIMIT + 1), { chunked: 256 * 1024, expect: { status: [413], code: 'payload_too_large' } }),
    req('6 MiB to /api/companies', `{"name":"${'n'.repeat(6 * 1024 * 1024)}"}`, { expect: { status: [413], code: 'payload_too_large' } }, '/api/companies'),
    req('a 5 MiB − 100 byte company name', `{"name":"${'n'.repeat(LIMIT - 100)}"}`, { expect: { cap: true } }, '/api/companies'),
    req('a 1,000,000-character kind', JSON.stringify({ kind: 'k'.repeat(1_000_000), input: {} }), { expect: { cap: true } }),
    req('a 1,000,000-character sourceTaskId', JSON.stringify({ kind: 'image', input: {}, sourceTaskId: 's'.repeat(1_000_000) }), { expect: { notAccepted: true } }),
    req('a 1,000,000-character key', JSON.stringify({ ['k'.repeat(1_000_000)]: 1, kind: 'image', input: {} }), { expect: { notAccepted: true } }),
    req('a 4 MiB outputName', JSON.stringify({ kind: 'image', input: { mode: 'svg', svg: ctx.cheapSvg }, outputName: 'o'.repeat(4 * 1024 * 1024) }), { expect: { cap: true } }),
  ];
  for (const n of [100, 5000, 100_000]) {
    for (const [shape, open, close] of [['arrays', '[', ']'], ['objects', '{"a":', '}']] as const) {
      out.push(
        req(`${n} levels of ${shape} as the body`, nest(open, close, n), { expect: { cap: true } }),
        req(`${n} levels of ${shape} in input`, `{"kind":"chart","input":${nest(open, close, n)}}`, { expect: { cap: true } }),
        req(`${n} levels of ${shape} in a chart spec`, `{"kind":"chart","input":{"spec":{"layer":${nest(open, close, n)}}}}`, { expect: { cap: true } }),
        req(`${n} levels of ${shape} in a company name`, `{"name":${nest(open, close, n)}}`, { expect: { cap: true } }, '/api/companies'),
      );
    }
  }
  const items = (n: number, item: string) => `[${Array.from({ length: n }, () => item).join(',')}]`;
  out.push(
    req('1e5 scenes of {}', `{"kind":"video","input":{"scenes":${items(100_000, '{}')}}}`, { expect: { notAccepted: true } }),
    req('1e5 scenes of a valid card', `{"kind":"video","input":{"scenes":${items(100_000, '{"visual":{"type":"card","card":{"title":"x"}}}')}}}`, { expect: { cap: true } }),
    req('1e5 numbers as the input', `{"kind":"image","input":${items(100_000, '1')}}`, { expect: { notAccepted: true } }),
    req('1e5 strings as the markdown', `{"kind":"document","input":{"markdown":${items(100_000, '"x"')}}}`, { expect: { notAccepted: true } }),
    req('1e5 repeat fields', JSON.stringify({ kind: 'chart', input: { spec: { data: { values: [] }, repeat: Array.from({ length: 100_000 }, (_, i) => `f${i}`), spec: { mark: 'point' } } } }), { expect: { cap: true } }),
    req('100,001 nulls in chart data', JSON.stringify({ kind: 'chart', input: { spec: { data: { values: Array(100_001).fill(null) }, mark: 'point' } } }), { expect: { cap: true } }),
    req('1e5 keys in one object', `{"kind":"image","input":{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')}}}`, { expect: { notAccepted: true } }),
    req('1e5 theme keys', `{"name":"x","maxQueuedJobs":1,${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')}}`, { expect: { notAccepted: true } }, '/api/companies'),
  );
  return out;
}

/** NUL and lone surrogates where the body schemas do not reach (keys, query, headers); odd Unicode that is valid. */
export function unicodeRequests(ctx: HostileContext): HostileRequest[] {
  const { ids } = ctx;
  const jobs = `/api/companies/${ids.acme}/content-jobs`;
  const headers = { ...auth(ctx), ...JSON_TYPE };
  const out: HostileRequest[] = [];
  const refused = (label: string, path: string, body: string, method = 'POST') =>
    out.push({ category: 'NUL and surrogates', label, method, path, headers, body, expect: { refused: true } });
  for (const [what, esc] of [['NUL', '\\u0000'], ['lone high surrogate', '\\ud800'], ['lone low surrogate', '\\udfff'], ['reversed pair', '\\udc00\\ud800']]) {
    refused(`${what} as a key at the root`, jobs, `{"${esc}":1,"kind":"image","input":{}}`);
    refused(`${what} as a key in the input`, jobs, `{"kind":"image","input":{"${esc}":1}}`);
    refused(`${what} as a key deep in a chart spec`, jobs, `{"kind":"chart","input":{"spec":{"data":{"values":[{"${esc}":1}]},"mark":"point"}}}`);
    refused(`${what} in chart data`, jobs, `{"kind":"chart","input":{"spec":{"data":{"values":[{"a":"x${esc}"}]},"mark":"point"}}}`);
    refused(`${what} in SVG text`, jobs, `{"kind":"image","input":{"mode":"svg","svg":"<svg xmlns=\\"http://www.w3.org/2000/svg\\"><text>${esc}</text></svg>"}}`);
    refused(`${what} in a company name`, '/api/companies', `{"name":"a${esc}"}`);
    refused(`${what} in a renamed company`, `/api/companies/${ids.acme}`, `{"name":"a${esc}"}`, 'PATCH');
    refused(`${what} in an MCP call`, '/mcp', `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"${esc}"}}`);
  }
  const queries: [string, string][] = [
    ['content-jobs?sourceTaskId=NUL', `${jobs}?sourceTaskId=%00`],
    ['content-jobs?kind=a NUL', `${jobs}?kind=a%00`],
    ['content-jobs?cursor=NUL', `${jobs}?cursor=%00`],
    ['assets?sourceTaskId=NUL', `/api/companies/${ids.acme}/assets?sourceTaskId=%00`],
    ['assets?filename=NUL (upload)', `/api/companies/${ids.acme}/assets?filename=a%00.txt`],
    ['job?wait=NUL', `${jobs}/${ids.acmeJob}?wait=%00`],
    ['events?since=NUL', `/api/companies/${ids.acme}/events?since=%00`],
  ];
  for (const [what, path] of queries) {
    const upload = what.includes('upload');
    out.push({
      category: 'NUL and surrogates',
      label: `query ${what}`,
      method: upload ? 'POST' : 'GET',
      path,
      headers: { ...auth(ctx), ...(upload ? { 'content-type': 'text/plain' } : {}) },
      body: upload ? 'hello' : undefined,
      expect: { refused: true },
    });
  }
  // Valid but odd Unicode: accepted or refused, never a 5xx — and what is accepted renders and downloads.
  const odd: [string, string][] = [
    ['RTL marks', '\u200F\u202Eevil\u202C.exe'],
    ['combining accents', 'Z\u0351\u0355\u0301\u0300\u0301a\u0301\u0301l\u0301g\u0301o'],
    ['an emoji family (ZWJ)', '\u{1F469}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'],
    ['line and paragraph separators', 'a\u2028b\u2029c'],
    ['a BOM and noncharacters', '\uFEFFa\uFFFE\uFFFF'],
    ['a surrogate pair written as escapes', '\ud83d\ude00'],
    ['Arabic and Hebrew', 'مرحبا שלום'],
    ['U+10FFFF', '\u{10FFFF}'],
  ];
  for (const [what, s] of odd) {
    out.push(
      { category: 'odd Unicode', label: `company name: ${what}`, method: 'POST', path: '/api/companies', headers, body: JSON.stringify({ name: s }) },
      { category: 'odd Unicode', label: `job sourceTaskId and outputName: ${what}`, method: 'POST', path: jobs, headers, body: JSON.stringify({ kind: 'image', input: { mode: 'svg', svg: ctx.cheapSvg }, sourceTaskId: s, outputName: s }) },
      { category: 'odd Unicode', label: `card title: ${what}`, method: 'POST', path: jobs, headers, body: JSON.stringify({ kind: 'image', input: { mode: 'card', title: s, subtitle: s, size: 'square' } }) },
      { category: 'odd Unicode', label: `list by sourceTaskId: ${what}`, method: 'GET', path: `${jobs}?sourceTaskId=${encodeURIComponent(s)}`, headers: auth(ctx) },
      { category: 'odd Unicode', label: `Idempotency-Key bytes: ${what}`, method: 'POST', path: jobs, headers: { ...headers, 'idempotency-key': utf8Bytes(s) }, body: '{}', expect: { status: [400] } },
      { category: 'odd Unicode', label: `upload filename: ${what}`, method: 'POST', path: `/api/companies/${ids.acme}/assets?filename=${encodeURIComponent(s)}`, headers: { ...auth(ctx), 'content-type': 'text/plain' }, body: s },
    );
  }
  return out;
}

/** POST …/assets: wrong or missing types, mismatched bytes, bombs, empty and oversized bodies, broken forms. */
export function uploadRequests(ctx: HostileContext, png: Buffer, maxUploadBytes: number): HostileRequest[] {
  const path = `/api/companies/${ctx.ids.acme}/assets`;
  const NS = 'xmlns="http://www.w3.org/2000/svg"';
  const up = (label: string, type: string | undefined, body: string | Buffer | undefined, extra: Partial<HostileRequest> = {}, query = 'filename=f'): HostileRequest => ({
    category: 'uploads',
    label,
    method: 'POST',
    path: `${path}?${query}`,
    headers: { ...auth(ctx), ...(type === undefined ? {} : { 'content-type': type }) },
    body,
    ...extra,
  });
  const refused = { expect: { refused: true as const } };
  const cap = { expect: { cap: true as const } };
  const unsupported = { expect: { status: [415], code: 'unsupported_media_type' } };
  const gifClaiming = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0]), Buffer.from([0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0x02, 0x02, 0x44, 0x01, 0, 0x3b])]);
  const jpegClaiming = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xdc, 0xff, 0xdc, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xd9]);
  const boundary = 'hostileBoundary';
  const form = (parts: string, b = boundary) => `${parts}--${b}--\r\n`;
  const filePart = (name: string, filename: string | null, type: string | null, content: string, b = boundary) =>
    `--${b}\r\nContent-Disposition: form-data; name="${name}"${filename === null ? '' : `; filename="${filename}"`}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n${content}\r\n`;
  const multipart = (b = boundary) => `multipart/form-data; boundary=${b}`;
  return [
    up('no Content-Type', undefined, 'hello', unsupported),
    up('a PNG sent as text/plain', 'text/plain', png, unsupported),
    up('a PNG sent as text/csv', 'text/csv', png, { expect: { status: [400, 415] } }),
    up('text sent as image/png', 'image/png', 'hello', { expect: { status: [400, 415] } }),
    up('a PNG as application/octet-stream', 'application/octet-stream', png, unsupported),
    up('a PNG as image/png; charset=utf-8', 'image/png; charset=utf-8', png),
    up('a PNG as IMAGE/PNG', 'IMAGE/PNG', png),
    up('a PNG as image/jpeg', 'image/jpeg', png, unsupported),
    up('a type that is not accepted', 'application/x-msdownload', Buffer.from('MZ\x90\x00', 'latin1'), unsupported),
    up('a type of 5,000 characters', 'image/' + 'p'.repeat(5000), png, unsupported),
    up('a type with latin1 bytes', utf8Bytes('image/pñg'), png, unsupported),
    up('an empty image/png', 'image/png', '', { expect: { status: [400, 415] } }),
    up('no body at all', 'image/png', undefined, { expect: { status: [400, 415] } }),
    up('a PNG cut in half', 'image/png', png.subarray(0, Math.floor(png.length / 2)), refused),
    up('a PNG claiming 50,000²', 'image/png', pngClaiming(50_000, 50_000), cap),
    up('a PNG claiming 0×0', 'image/png', pngClaiming(0, 0), refused),
    up('a PNG claiming 2^31²', 'image/png', pngClaiming(0x7fffffff, 0x7fffffff), refused),
    up('a GIF claiming 65535²', 'image/gif', gifClaiming, refused),
    up('a JPEG claiming 65500²', 'image/jpeg', jpegClaiming, refused),
    up('malformed SVG', 'image/svg+xml', `<svg ${NS}><rect></svg>`, refused),
    up('an SVG <use> bomb', 'image/svg+xml', useBomb(29), cap),
    up('an SVG on a 100000² canvas', 'image/svg+xml', `<svg ${NS} width="100000" height="100000"/>`, cap),
    up('an SVG with an external ENTITY', 'image/svg+xml', `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg ${NS}><text>&x;</text></svg>`, refused),
    up('an SVG at file:///etc/passwd', 'image/svg+xml', `<svg ${NS}><image href="file:///etc/passwd"/></svg>`, refused),
    up('JSON that does not parse', 'application/json', '{"a": [1, 2', refused),
    up('JSON 100,000 levels deep', 'application/json', nest('[', ']', 100_000)),
    up('JSON with a NUL and a lone surrogate', 'application/json', '{"a":"\\u0000","b":"\\ud800"}'),
    up('text that is not UTF-8', 'text/plain', Buffer.from([0x61, 0xff, 0xfe, 0x62]), refused),
    up('Markdown of 5,000 `>`', 'text/markdown', '>'.repeat(5000) + ' deep'),
    // Audio and video are taken as their bytes say (415 otherwise); they are decoded when a job uses them.
    up('a WAV header and nothing else', 'audio/wav', Buffer.from('RIFF\xff\xff\xff\x7fWAVEfmt ', 'latin1')),
    up('an MP4 that is text', 'video/mp4', 'not a video at all', { expect: { status: [400, 415] } }),
    up('a PDF that is text', 'application/pdf', 'not a pdf', { expect: { status: [400, 415] } }),
    up(`${maxUploadBytes + 1} bytes`, 'text/plain', 'a'.repeat(maxUploadBytes + 1), { expect: { status: [413], code: 'payload_too_large' } }),
    up(`${maxUploadBytes + 1} bytes, chunked`, 'text/plain', 'a'.repeat(maxUploadBytes + 1), { chunked: 64 * 1024, expect: { status: [413], code: 'payload_too_large' } }),
    up(`${maxUploadBytes + 1} bytes in a form`, multipart(), form(filePart('file', 'big.txt', 'text/plain', 'a'.repeat(maxUploadBytes + 1))), { expect: { status: [413], code: 'payload_too_large' } }),
    up('filename ../../etc/passwd', 'text/plain', 'hello', {}, 'filename=..%2F..%2Fetc%2Fpasswd'),
    up('filename of 10,000 characters', 'text/plain', 'hello', {}, `filename=${'f'.repeat(10_000)}`),
    up('filename with a backslash and quotes', 'text/plain', 'hello', {}, 'filename=a%5C%22b%22.txt'),
    up('filename given twice', 'text/plain', 'hello', {}, 'filename=a.txt&filename=b.txt'),
    up('multipart without a boundary', 'multipart/form-data', form(filePart('file', 'a.txt', 'text/plain', 'hello')), { expect: { notAccepted: true } }),
    up('multipart with another boundary', multipart('other'), form(filePart('file', 'a.txt', 'text/plain', 'hello')), { expect: { notAccepted: true } }),
    up('multipart cut off', multipart(), filePart('file', 'a.txt', 'text/plain', 'hello').slice(0, 60), { expect: { notAccepted: true } }),
    up('multipart with no file', multipart(), form(filePart('note', null, null, 'hello')), { expect: { notAccepted: true } }),
    up('multipart with two files', multipart(), form(filePart('file', 'a.txt', 'text/plain', 'a') + filePart('file', 'b.txt', 'text/plain', 'b'))),
    up('multipart with 25 fields', multipart(), form(Array.from({ length: 25 }, (_, i) => filePart(`f${i}`, null, null, 'x')).join('') + filePart('file', 'a.txt', 'text/plain', 'hello'))),
    // A part without a Content-Type is text/plain (RFC 7578).
    up('multipart file without a type', multipart(), form(filePart('file', 'a.bin', null, 'hello'))),
    up('multipart file without a filename', multipart(), form(filePart('file', null, 'text/plain', 'hello'))),
    up('multipart, an empty form', multipart(), `--${boundary}--\r\n`, { expect: { notAccepted: true } }),
    up('multipart, a boundary of 200 characters', multipart('b'.repeat(200)), form(filePart('file', 'a.txt', 'text/plain', 'hi', 'b'.repeat(200)), 'b'.repeat(200))),
    up('multipart, garbage', multipart(), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), { expect: { notAccepted: true } }),
  ];
}

/** One submit per bomb (see hostile-bombs.ts): each must be refused at submit. */
export function bombRequests(ctx: HostileContext): HostileRequest[] {
  return bombs().map((b) => ({
    category: `bombs: ${b.kind}`,
    label: b.label,
    method: 'POST',
    path: `/api/companies/${ctx.ids.acme}/content-jobs`,
    headers: { ...auth(ctx, 'acme'), ...JSON_TYPE },
    body: JSON.stringify({ kind: b.kind, input: b.input }),
    expect: b.cap ? { cap: true } : { refused: true },
  }));
}

