import { createHash } from 'node:crypto';
import type {
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  Reference,
  ResponseObject,
} from './openapi-types.js';

/**
 * The HTML reference at /api/docs, rendered on the server from the OpenAPI document: routes by
 * tag with their parameters, bodies, examples and error codes, then the schemas. It is one
 * self-contained page with no script, so it works offline and its CSP can forbid every load.
 */
export interface ApiReferencePage {
  html: string;
  /** For `Content-Security-Policy`: the only thing the page may use is its own inline style. */
  contentSecurityPolicy: string;
}

const STYLE = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --code: #f3f4f6; }
@media (prefers-color-scheme: dark) { :root { --muted: #9ca3af; --line: #374151; --code: #1f2937; } }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 18rem 1fr; }
nav { position: sticky; top: 0; height: 100vh; overflow: auto; padding: 1rem; border-right: 1px solid var(--line); font-size: 13px; }
nav ul { list-style: none; padding-left: 0; margin: 0 0 1rem; } nav a { text-decoration: none; overflow-wrap: anywhere; }
nav li { margin-bottom: .2rem; } td ul { margin: 0; padding-left: 1.1rem; } td p { margin: 0 0 .25rem; }
main { padding: 1rem 2rem 4rem; max-width: 70rem; }
h2 { border-bottom: 1px solid var(--line); margin-top: 3rem; } h3 { margin-bottom: .25rem; }
article { border-top: 1px solid var(--line); padding: .5rem 0 1rem; }
code, pre { font: 13px/1.4 ui-monospace, monospace; background: var(--code); border-radius: 4px; }
code { padding: 0 .25rem; } pre { padding: .75rem; overflow: auto; max-height: 28rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: 14px; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .3rem .5rem; }
th { font-weight: 600; } .muted, .constraints { color: var(--muted); } .constraints { font-size: 12px; }
.method { display: inline-block; min-width: 4rem; text-align: center; border-radius: 4px; color: #fff; font-size: 12px; padding: .1rem .4rem; margin-right: .5rem; }
.get { background: #2563eb; } .post { background: #16a34a; } .delete { background: #dc2626; } .head { background: #7c3aed; }
.public { font-size: 12px; color: #16a34a; margin-left: .5rem; } details { margin: .25rem 0; } summary { cursor: pointer; }
`;

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

export function renderApiReferencePage(doc: OpenApiDocument, errorCodes: { code: string; status: number | null; message: string }[]): ApiReferencePage {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ path, method, op: item[method]! }] : [])),
  );
  const byTag = doc.tags.map((tag) => ({ tag, ops: operations.filter((o) => o.op.tags[0] === tag.name) }));

  const nav = [
    ...byTag.map(({ tag, ops }) => `<strong><a href="#tag-${slug(tag.name)}">${esc(tag.name)}</a></strong><ul>${ops
      .map((o) => `<li><a href="#op-${o.op.operationId}"><span class="muted">${o.method.toUpperCase()}</span> ${esc(o.path)}</a></li>`)
      .join('')}</ul>`),
    '<strong><a href="#error-codes">Error codes</a></strong><br><strong><a href="#schemas">Schemas</a></strong>',
  ].join('');

  const sections = byTag.map(({ tag, ops }) => `<section id="tag-${slug(tag.name)}"><h2>${esc(tag.name)}</h2>${markdown(tag.description ?? '')}${ops
    .map((o) => operationHtml(doc, o.method, o.path, o.op))
    .join('')}</section>`);

  const errorTable = `<section id="error-codes"><h2>Error codes</h2><p>Every error body is <code>{"error": {"code", "message", "details"?}}</code>; the code is stable.</p>
<table><tr><th>Code</th><th>HTTP status</th><th>Meaning</th></tr>${errorCodes
    .map((e) => `<tr><td><code>${esc(e.code)}</code></td><td>${e.status ?? '<span class="muted">job failure, in <code>error.code</code></span>'}</td><td>${esc(e.message)}</td></tr>`)
    .join('')}</table></section>`;

  const schemas = `<section id="schemas"><h2>Schemas</h2>${Object.entries(doc.components.schemas)
    .map(([name, schema]) => schemaHtml(name, schema))
    .join('')}</section>`;

  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)} reference</title><style>${STYLE}</style></head>
<body><nav>${nav}</nav><main>
<h1>${esc(doc.info.title)} <span class="muted">${esc(doc.info.version)}</span></h1>
${markdown(doc.info.description ?? '')}
<p>OpenAPI ${esc(doc.openapi)} document: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
${sections.join('\n')}
${errorTable}
${schemas}
</main></body></html>`;

  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  return {
    html,
    contentSecurityPolicy: `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

function operationHtml(doc: OpenApiDocument, method: string, path: string, op: OperationObject): string {
  const params = (op.parameters ?? []).map((p) => resolveParameter(doc, p));
  const paramTable = params.length
    ? `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Schema</th><th>Description</th></tr>${params
        .map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="muted">required</span>' : ''}</td><td>${p.in}</td><td>${typeHtml(p.schema)}</td><td>${inline(p.description ?? '')}</td></tr>`)
        .join('')}</table>`
    : '';
  const body = op.requestBody
    ? `<h4>Request body${op.requestBody.required ? '' : ' (optional)'}</h4>${Object.entries(op.requestBody.content).map(([type, media]) => mediaHtml(doc, type, media)).join('')}`
    : '';
  const responses = `<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Body</th></tr>${Object.entries(op.responses)
    .map(([status, r]) => responseRow(doc, status, r))
    .join('')}</table>`;
  return `<article id="op-${op.operationId}"><h3><span class="method ${method}">${method.toUpperCase()}</span><code>${esc(path)}</code>${
    op.security?.length === 0 ? '<span class="public">no API key</span>' : ''
  }</h3><p><strong>${esc(op.summary)}</strong> <span class="muted">${op.operationId}</span></p>${markdown(op.description ?? '')}${paramTable}${body}${responses}</article>`;
}

function responseRow(doc: OpenApiDocument, status: string, r: ResponseObject): string {
  const media = Object.entries(r.content ?? {});
  const headers = Object.entries(r.headers ?? {});
  const headerList = headers.length
    ? `<div class="constraints">Headers:<ul>${headers.map(([name, h]) => `<li><code>${esc(name)}</code>: ${inline(h.description ?? '')}</li>`).join('')}</ul></div>`
    : '';
  return `<tr><td>${esc(status)}</td><td>${markdown(r.description)}${headerList}</td><td>${media.map(([type, m]) => mediaHtml(doc, type, m, true)).join('')}</td></tr>`;
}

function mediaHtml(doc: OpenApiDocument, type: string, media: MediaTypeObject, compact = false): string {
  const schema = media.schema;
  const events = media['x-kiln-events'] as Record<string, JsonSchema> | undefined;
  const parts = [`<code>${esc(type)}</code>${schema && Object.keys(schema).length ? ` ${typeHtml(schema)}` : ''}`];
  // A union body (create-job: one variant per kind) is worth naming where the body is described.
  const target = typeof schema?.$ref === 'string' ? doc.components.schemas[schema.$ref.split('/').pop()!] : undefined;
  const variants = (target?.oneOf ?? target?.anyOf) as JsonSchema[] | undefined;
  if (!compact && variants) parts.push(`<br><span class="constraints">One of:</span> ${variants.map((v) => typeHtml(v)).join(', ')}`);
  if (events) {
    parts.push(`<br><span class="constraints">Events:</span> ${Object.entries(events).map(([t, s]) => `<code>${esc(t)}</code> → ${typeHtml(s)}`).join(', ')}`);
  }
  const examples = Object.entries(media.examples ?? {});
  // Error examples repeat the codes the description already lists.
  if (!compact || type !== 'application/json') {
    if (examples.length) {
      for (const [name, ex] of examples) parts.push(`<details><summary>Example: ${esc(ex.summary ?? name)}</summary>${markdown(ex.description ?? '')}<pre>${esc(pretty(ex.value))}</pre></details>`);
    } else if (media.example !== undefined) {
      parts.push(`<details><summary>Example</summary><pre>${esc(pretty(media.example))}</pre></details>`);
    }
  }
  return `<div>${parts.join('')}</div>`;
}

function schemaHtml(name: string, schema: JsonSchema): string {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const fields = props
    ? `<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>${Object.entries(props)
        .map(([field, s]) => `<tr><td><code>${esc(field)}</code>${required.has(field) ? ' <span class="muted">required</span>' : ''}</td><td>${typeHtml(s)}</td><td>${inline(String(s.description ?? ''))}</td></tr>`)
        .join('')}</table>`
    : `<p>${typeHtml(schema, true)}</p>`;
  const examples = (schema.examples as unknown[] | undefined) ?? [];
  return `<article id="schema-${esc(name)}"><h3>${esc(name)}</h3>${markdown(String(schema.description ?? ''))}${fields}${examples
    .map((e) => `<details><summary>Example</summary><pre>${esc(pretty(e))}</pre></details>`)
    .join('')}<details><summary>JSON Schema</summary><pre>${esc(pretty(schema))}</pre></details></article>`;
}

/** A one-line reading of a schema: links for `$ref`, unions, enums, formats and the main limits. */
function typeHtml(s: JsonSchema | undefined, top = false): string {
  if (!s || Object.keys(s).length === 0 || (Object.keys(s).length === 1 && 'description' in s)) return 'any';
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  }
  if ('const' in s) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  const union = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (union) return union.map((u) => typeHtml(u)).join(top ? '<br>or ' : ' | ');
  if (s.allOf) return (s.allOf as JsonSchema[]).map((u) => typeHtml(u)).join(' &amp; ');
  let type = Array.isArray(s.type) ? s.type.join(' | ') : String(s.type ?? 'any');
  if (s.enum) type = (s.enum as unknown[]).map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
  else if (s.type === 'array') type = `array of ${typeHtml(s.items as JsonSchema)}`;
  else if (s.format) type += ` (${esc(String(s.format))})`;
  const c: string[] = [];
  const bound = (v: unknown) => typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER;
  if (bound(s.minimum) || bound(s.maximum)) c.push(`${bound(s.minimum) ? s.minimum : '…'}–${bound(s.maximum) ? s.maximum : '…'}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) c.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '…'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) c.push(`${s.minItems ?? 0}–${s.maxItems ?? '…'} items`);
  // zod's uuid and date-time regexes restate the format and would swamp the table.
  if (s.pattern && !s.format) c.push(`pattern <code>${esc(String(s.pattern))}</code>`);
  if (s.default !== undefined) c.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
  return `${type}${c.length ? ` <span class="constraints">${c.join(', ')}</span>` : ''}`;
}

function resolveParameter(doc: OpenApiDocument, p: ParameterObject | Reference): ParameterObject {
  if (!('$ref' in p)) return p;
  const name = p.$ref.replace('#/components/parameters/', '');
  const found = doc.components.parameters[name];
  if (!found) throw new Error(`Unresolved parameter ${p.$ref}`);
  return found;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const pretty = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));

/** The little Markdown the descriptions use: `code`, **bold**, paragraphs and lists. */
const inline = (text: string) =>
  esc(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
/** Paragraphs, and `- ` lines as a list. */
const markdown = (text: string) =>
  text
    .split(/\n\s*\n/)
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => l.startsWith('- '))) return `<ul>${lines.map((l) => `<li>${inline(l.slice(2))}</li>`).join('')}</ul>`;
      return `<p>${inline(block.replace(/\n/g, ' '))}</p>`;
    })
    .join('');
