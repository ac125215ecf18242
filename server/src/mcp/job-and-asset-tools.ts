import type { KilnClient } from '@kiln/client';
import { JOB_STATUSES, MAX_LIST_LIMIT, type JobView } from '@kiln/shared';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { parseAssetUri } from './asset-content.js';
import { assetSummary, jobToolResult, resourceLink } from './job-tool-result.js';
import type { ToolContext, ToolHandler } from './mcp-tool-context.js';
import { toolError } from './tool-errors.js';

/** Bytes an upload_asset call may carry inline (stdio; /mcp request bodies are capped lower, at 5 MiB). */
export const MAX_INLINE_UPLOAD_BYTES = 16 * 1024 * 1024;

const companyId = z.string().min(1).max(64).optional().describe("The company (tenant) to work in. Leave it out to use this connection's company.");
const jobId = z.string().min(1).max(64).describe('The job id (jobId in a tool result).');
const limit = z.number().int().min(1).max(MAX_LIST_LIMIT).default(20).describe('Items per page.');
const cursor = z.string().min(1).max(200).optional().describe('nextCursor of the previous page.');
const sourceTaskId = z.string().min(1).max(200).optional().describe('Only what was made for this task (the sourceTaskId given when creating).');

const getJobArgs = z.strictObject({
  jobId,
  waitSeconds: z.number().int().min(0).max(60).optional().describe('Wait up to this many seconds (at most 60) for the job to end before answering.'),
  companyId,
});
const listJobsArgs = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.string().min(1).max(64).optional(),
  sourceTaskId,
  limit,
  cursor,
  companyId,
});
const cancelJobArgs = z.strictObject({ jobId, companyId });
const listAssetsArgs = z.strictObject({ sourceTaskId, jobId: jobId.optional().describe('Only the outputs of this job.'), limit, cursor, companyId });
const uploadAssetArgs = z.strictObject({
  dataBase64: z
    .string()
    .min(1)
    .max(Math.ceil(MAX_INLINE_UPLOAD_BYTES / 3) * 4 + 200)
    .optional()
    .describe(`The file's bytes, base64 (a data: URL works too). At most ${MAX_INLINE_UPLOAD_BYTES / 1024 / 1024} MiB; through /mcp the whole request is capped at 5 MiB.`),
  url: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe('Instead of bytes: an asset of THIS Kiln server — kiln://assets/<id>, or its /api/companies/<company>/assets/<id>[/content] URL. Any other URL is refused; nothing else is fetched.'),
  filename: z.string().min(1).max(200).optional().describe('The file name (kept as the download name). Required with dataBase64.'),
  contentType: z.string().min(3).max(200).optional().describe('Its type (image/png, text/csv …); from the file name or the copied asset when left out.'),
  companyId,
});

function toolOf(name: string, title: string, description: string, args: z.ZodType, annotations: Tool['annotations']): Tool {
  const { $schema: _dialect, ...inputSchema } = z.toJSONSchema(args, { io: 'input' }) as Record<string, unknown>;
  return { name, title, description, inputSchema: inputSchema as Tool['inputSchema'], annotations: { title, openWorldHint: false, ...annotations } };
}

/** A job in lists: enough to pick one, with its outputs' URIs. */
function jobLine(job: JobView, ctx: ToolContext) {
  return {
    jobId: job.id,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    stage: job.stage,
    sourceTaskId: job.sourceTaskId,
    error: job.error,
    outputs: job.outputs.map((a) => ({ assetId: a.id, uri: assetSummary(a, ctx).uri, filename: a.filename, contentType: a.contentType, byteSize: a.byteSize })),
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

export const jobAndAssetTools: ToolHandler[] = [
  {
    tool: toolOf(
      'get_job',
      'Kiln: get a job',
      'A Kiln job: status, progress, warnings, error {code, message}, and its outputs as resource links (kiln://assets/<id>). ' +
        'With waitSeconds it answers as soon as the job ends (or after that many seconds, with the job as it is then). ' +
        'A failed job is reported here, not as an error of this call.',
      getJobArgs,
      { readOnlyHint: true },
    ),
    async run(call, ctx) {
      const a = getJobArgs.parse(call.args);
      const company = await ctx.companyFor(a.companyId);
      const job = await ctx.client.getJob(company, a.jobId, { wait: a.waitSeconds, signal: call.signal });
      return jobToolResult(job, ctx, { inline: true, failureIsError: false, signal: call.signal });
    },
  },
  {
    tool: toolOf(
      'list_jobs',
      'Kiln: list jobs',
      'Jobs of the company, newest first, optionally only one status, kind or sourceTaskId. Pass nextCursor back as cursor for the next page.',
      listJobsArgs,
      { readOnlyHint: true },
    ),
    async run(call, ctx) {
      const { companyId: requested, ...filter } = listJobsArgs.parse(call.args);
      const company = await ctx.companyFor(requested);
      const page = await ctx.client.listJobsPage(company, { ...filter, signal: call.signal });
      const result = { items: page.items.map((j) => jobLine(j, ctx)), nextCursor: page.nextCursor };
      return { content: [{ type: 'text', text: `${page.items.length} job(s)${page.nextCursor ? ' (more: pass nextCursor as cursor)' : ''}.\n${JSON.stringify(result)}` }], structuredContent: result };
    },
  },
  {
    tool: toolOf(
      'cancel_job',
      'Kiln: cancel a job',
      'Cancels a queued or running job (a running render stops within a moment). A job that already ended is an error job_not_cancelable.',
      cancelJobArgs,
      { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    ),
    async run(call, ctx) {
      const a = cancelJobArgs.parse(call.args);
      const company = await ctx.companyFor(a.companyId);
      const job = await ctx.client.cancelJob(company, a.jobId, { signal: call.signal });
      return jobToolResult(job, ctx, { inline: false, failureIsError: false });
    },
  },
  {
    tool: toolOf(
      'upload_asset',
      'Kiln: upload a file',
      'Stores a file as an asset (role "input") to use in later jobs: image logoAssetId/backgroundAssetId, chart dataAssetId (CSV/TSV/JSON), ' +
        'document ![alt](asset:<id>), video scenes and soundtrack. Give the bytes as dataBase64 with filename (and contentType), ' +
        'or copy an asset of this same Kiln server with url (an existing asset can also be used by its id directly). Returns the asset id and its kiln:// URI.',
      uploadAssetArgs,
      { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    ),
    async run(call, ctx) {
      const a = uploadAssetArgs.parse(call.args);
      if ((a.dataBase64 === undefined) === (a.url === undefined)) {
        return toolError('validation_failed', 'Give exactly one of dataBase64 (the bytes) or url (an asset of this Kiln server).');
      }
      const company = await ctx.companyFor(a.companyId);
      const asset =
        a.dataBase64 !== undefined
          ? await uploadInline(ctx.client, company, a.dataBase64, a.filename, a.contentType, call.signal)
          : await copyOwnAsset(ctx, company, a.url!, a.filename, a.contentType, call.signal);
      if ('content' in asset) return asset; // a tool error
      const summary = assetSummary(asset, ctx);
      return {
        content: [
          { type: 'text', text: `Uploaded ${asset.filename} (${asset.contentType}, ${asset.byteSize} bytes) as asset ${asset.id}.\n${JSON.stringify(summary)}` },
          resourceLink(asset, ctx, 'Uploaded input asset'),
        ],
        structuredContent: summary,
      };
    },
  },
  {
    tool: toolOf(
      'list_assets',
      'Kiln: list assets',
      'Files of the company (outputs, previews and uploads), newest first, optionally only those of one task (sourceTaskId) or job. ' +
        'Each is a resource (kiln://assets/<id>) readable with resources/read. Pass nextCursor back as cursor for the next page.',
      listAssetsArgs,
      { readOnlyHint: true },
    ),
    async run(call, ctx) {
      const { companyId: requested, ...filter } = listAssetsArgs.parse(call.args);
      const company = await ctx.companyFor(requested);
      const page = await ctx.client.listAssetsPage(company, { ...filter, signal: call.signal });
      const result = { items: page.items.map((x) => assetSummary(x, ctx)), nextCursor: page.nextCursor };
      return {
        content: [
          { type: 'text', text: `${page.items.length} asset(s)${page.nextCursor ? ' (more: pass nextCursor as cursor)' : ''}.\n${JSON.stringify(result)}` },
          ...page.items.map((x) => resourceLink(x, ctx)),
        ],
        structuredContent: result,
      };
    },
  },
];

async function uploadInline(client: KilnClient, company: string, data: string, filename: string | undefined, contentType: string | undefined, signal: AbortSignal) {
  const dataUrl = /^data:([^;,]+)?(?:;[^;,]*)*;base64,/i.exec(data);
  const base64 = (dataUrl ? data.slice(dataUrl[0].length) : data).replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*)$/.test(base64) || base64.length === 0) {
    return toolError('validation_failed', 'dataBase64 is not base64.');
  }
  const bytes = Buffer.from(base64, base64.includes('-') || base64.includes('_') ? 'base64url' : 'base64');
  if (bytes.length > MAX_INLINE_UPLOAD_BYTES) {
    return toolError('payload_too_large', `Inline uploads are capped at ${MAX_INLINE_UPLOAD_BYTES} bytes; this is ${bytes.length}. Upload larger files with POST /api/companies/<company>/assets.`);
  }
  if (!filename) return toolError('validation_failed', 'filename is required with dataBase64.');
  return client.upload(company, new Uint8Array(bytes), { filename, contentType: contentType ?? dataUrl?.[1], signal });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASSET_PATH = /^\/api\/companies\/([A-Za-z0-9-]{1,64})\/assets\/([0-9a-fA-F-]{36})(?:\/content)?\/?$/;

/**
 * The asset a URL names on this Kiln server, or null. Only `kiln://` URIs, paths, and absolute
 * URLs whose origin is one this Kiln is reached under are read, and only as asset ids: the bytes
 * are then fetched through the Kiln API with the caller's key, never from the URL itself, so no
 * URL can make this server request anything anywhere else.
 */
export function ownAssetFromUrl(raw: string, ownOrigins: readonly string[]): { companyId: string | null; assetId: string } | null {
  if (raw.startsWith('kiln:')) return parseAssetUri(raw);
  let url: URL;
  try {
    url = new URL(raw, 'http://relative.invalid');
  } catch {
    return null;
  }
  const relative = url.origin === 'http://relative.invalid' && raw.startsWith('/') && !raw.startsWith('//');
  if (!relative && !ownOrigins.includes(url.origin)) return null;
  const m = ASSET_PATH.exec(url.pathname);
  if (!m || !UUID.test(m[2]!)) return null;
  return { companyId: m[1]!, assetId: m[2]! };
}

async function copyOwnAsset(ctx: ToolContext, company: string, raw: string, filename: string | undefined, contentType: string | undefined, signal: AbortSignal) {
  const source = ownAssetFromUrl(raw, ctx.ownOrigins);
  if (!source) {
    const message = `upload_asset only copies assets of this Kiln server (kiln://assets/<id>, or ${ctx.ownOrigins[0] ?? ''}/api/companies/<company>/assets/<id>/content); it never fetches other URLs. Send the file's bytes as dataBase64 instead.`;
    return toolError('validation_failed', message, [{ path: ['url'], message: 'not an asset URL of this Kiln server' }]);
  }
  const sourceCompany = source.companyId ?? (await ctx.companyFor(undefined));
  const original = await ctx.client.getAsset(sourceCompany, source.assetId, { signal });
  // Streamed from the download into the upload, never held whole.
  const both = new AbortController();
  const stop = () => both.abort();
  signal.addEventListener('abort', stop, { once: true });
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  try {
    const [, asset] = await Promise.all([
      ctx.client.downloadAsset(sourceCompany, original.id, pipe.writable, { signal: both.signal }),
      ctx.client.upload(company, pipe.readable, { filename: filename ?? original.filename, contentType: contentType ?? original.contentType, signal: both.signal }),
    ]);
    return asset;
  } catch (err) {
    both.abort();
    throw err;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
