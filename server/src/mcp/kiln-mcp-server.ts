import serverPackage from '../../package.json' with { type: 'json' };
import type { KilnClient } from '@kiln/client';
import { KilnApiError } from '@kiln/client';
import type { RendererView } from '@kiln/shared';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourceTemplatesRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { MAX_RESOURCE_READ_BYTES, isTextType, parseAssetUri, readAssetBytes } from './asset-content.js';
import { jobAndAssetTools } from './job-and-asset-tools.js';
import { jobToolResult } from './job-tool-result.js';
import { kindTool, toolNameForKind } from './kind-tools.js';
import type { ToolCall, ToolContext, ToolHandler } from './mcp-tool-context.js';
import { errorResult } from './tool-errors.js';

export interface KilnMcpOptions {
  /** A client of the Kiln HTTP API, acting with the caller's key: every tool goes through it. */
  client: KilnClient;
  /** The company calls act for when they name none: the key's own company, or the default one. */
  defaultCompany: () => Promise<string>;
  /** Where the agent reaches this Kiln (asset URLs in results are made absolute against it). */
  publicBaseUrl: string;
  /** Origins this Kiln is reached under; upload_asset copies assets only from URLs of these. */
  ownOrigins: readonly string[];
  /** Diagnostics (stderr for stdio, the server log for HTTP); never the protocol stream. */
  log?: (message: string) => void;
}

export interface KilnMcpConnection {
  server: Server;
  /** Tool calls in progress: an HTTP session with any is not idle. */
  activeCalls(): number;
}

/** How long the renderer list is reused before tools/list asks the server again. */
const RENDERERS_TTL_MS = 30_000;

const INSTRUCTIONS = `Kiln renders content as files: images, charts, documents (PDF/HTML), speech and video.
Each generate tool (generate_image, render_chart, render_document, synthesize_speech, render_video, …) creates a job, waits for it, and returns its outputs as resource links (kiln://assets/<id>) — images also inline. Read an output with resources/read.
Bring your own files with upload_asset and reference them by id in later inputs. Pass sourceTaskId to group everything made for one task (list_assets { sourceTaskId }).
Long jobs: pass waitSeconds to get the job id back early, then get_job { jobId, waitSeconds }. Canceling a call cancels its job.`;

/**
 * Connects one MCP server (one client connection: the stdio process, or one HTTP session) to
 * `transport`. Tools, resources and results are the same for both transports; only the client
 * passed in (its base URL and key) differs.
 */
export async function connectKilnMcp(transport: Transport, o: KilnMcpOptions): Promise<KilnMcpConnection> {
  const log = o.log ?? (() => {});
  // The SDK aborts in-flight handlers both when the client cancels a call and when the connection
  // closes. Only the first cancels the Kiln job: a client that went away (or a server that is
  // stopping) leaves its jobs running, to be found with list_jobs. Our close hook is installed
  // before connect() wraps it, so it runs before the SDK aborts the handlers.
  let closed = false;
  const previousOnClose = transport.onclose;
  transport.onclose = () => {
    closed = true;
    previousOnClose?.();
  };

  // Low-level Server rather than McpServer: the kind tools' input schemas are JSON Schemas from
  // GET /api/renderers, published as they are; McpServer wants zod schemas for every tool.
  const server = new Server(
    { name: 'kiln', title: 'Kiln', version: serverPackage.version },
    { capabilities: { tools: { listChanged: true }, resources: {} }, instructions: INSTRUCTIONS },
  );
  server.onerror = (err) => log(`mcp: ${err.message}`);

  let company: Promise<string> | null = null;
  const defaultCompany = () => {
    company ??= o.defaultCompany().catch((err) => {
      company = null; // try again on the next call
      throw err;
    });
    return company;
  };
  const context = async (): Promise<ToolContext> => ({
    client: o.client,
    connectionCompanyId: await defaultCompany(),
    publicBaseUrl: o.publicBaseUrl,
    ownOrigins: o.ownOrigins,
    companyFor: (requested) => (requested ? Promise.resolve(requested) : defaultCompany()),
  });

  const staticTools = new Map(jobAndAssetTools.map((h) => [h.tool.name, h]));
  let renderers: { at: number; list: RendererView[] } | null = null;
  let listedNames: string | null = null;

  /** The kind tools, from the server's renderer list (cached briefly); kinds added later appear. */
  async function kindTools(refresh = false): Promise<Map<string, RendererView>> {
    if (refresh || !renderers || Date.now() - renderers.at > RENDERERS_TTL_MS) {
      renderers = { at: Date.now(), list: await o.client.listRenderers() };
    }
    const byName = new Map<string, RendererView>();
    for (const r of renderers.list) {
      let name = toolNameForKind(r.kind);
      // Two kinds that spell the same name, or a kind named like a fixed tool, keep distinct tools.
      for (let n = 2; byName.has(name) || staticTools.has(name); n++) name = `${toolNameForKind(r.kind)}_${n}`;
      byName.set(name, r);
    }
    const names = [...byName.keys()].join(',');
    if (listedNames !== null && names !== listedNames) server.sendToolListChanged().catch(() => {});
    listedNames = names;
    return byName;
  }

  /** The kind a tool name stands for; a name not in the cached list may be a kind added since. */
  async function kindNamed(name: string): Promise<RendererView | undefined> {
    try {
      return (await kindTools()).get(name) ?? (await kindTools(true)).get(name);
    } catch (err) {
      throw new McpError(ErrorCode.InternalError, `Kiln cannot be reached: ${(err as Error).message}`);
    }
  }

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    let kinds: Map<string, RendererView>;
    try {
      kinds = await kindTools();
    } catch (err) {
      // Kiln unreachable: the fixed tools still list; the kind tools follow (with list_changed) once it answers.
      log(`mcp: could not list renderers: ${(err as Error).message}`);
      listedNames = '';
      kinds = new Map();
    }
    const tools: Tool[] = [...kinds].map(([name, r]) => ({ ...kindTool(r), name }));
    for (const h of staticTools.values()) tools.push(h.tool);
    return { tools };
  });

  let active = 0;
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    let handler: ToolHandler | undefined = staticTools.get(name);
    if (!handler) {
      const kind = await kindNamed(name);
      if (kind) handler = kindToolHandler(kind.kind);
    }
    if (!handler) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);

    let canceledByClient = false;
    extra.signal.addEventListener('abort', () => (canceledByClient = !closed), { once: true });
    const token = extra._meta?.progressToken;
    let lastProgress = -1;
    const call: ToolCall = {
      args: request.params.arguments ?? {},
      signal: extra.signal,
      canceledByClient: () => canceledByClient,
      progress(fraction, message) {
        if (token === undefined || !(fraction > lastProgress)) return;
        lastProgress = fraction;
        extra
          .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: fraction, total: 1, ...(message ? { message } : {}) } })
          .catch(() => {});
      },
    };
    active++;
    try {
      return await handler.run(call, await context());
    } catch (err) {
      if (extra.signal.aborted) throw err; // canceled: the SDK sends no answer
      return errorResult(err);
    } finally {
      active--;
    }
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: 'kiln://assets/{assetId}',
        name: 'kiln-asset',
        title: 'Kiln asset',
        description: `A file of this connection's company: a job output, a preview, or an upload. resources/read returns text types as text and others as base64 (up to ${MAX_RESOURCE_READ_BYTES / 1024 / 1024} MiB).`,
      },
      {
        uriTemplate: 'kiln://companies/{companyId}/assets/{assetId}',
        name: 'kiln-company-asset',
        title: 'Kiln asset of a named company',
        description: 'The same, for an asset of another company this key may see (admin keys).',
      },
    ],
  }));

  server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => {
    const ctx = await context();
    const page = await o.client.listAssetsPage(ctx.connectionCompanyId!, { limit: 50, cursor: request.params?.cursor, signal: extra.signal });
    return {
      resources: page.items.map((a) => ({
        uri: `kiln://assets/${a.id}`,
        name: a.filename,
        mimeType: a.contentType,
        size: a.byteSize,
        description: `${a.role} asset${a.jobId ? ` of job ${a.jobId}` : ''}${a.sourceTaskId ? `, task ${a.sourceTaskId}` : ''}, created ${a.createdAt}`,
      })),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    const ref = parseAssetUri(uri);
    if (!ref) throw new McpError(-32002, `Resource not found: ${uri} (Kiln resources are kiln://assets/<id>)`, { uri });
    const companyId = ref.companyId ?? (await defaultCompany());
    try {
      const asset = await o.client.getAsset(companyId, ref.assetId, { signal: extra.signal });
      if (asset.byteSize > MAX_RESOURCE_READ_BYTES) {
        const url = new URL(asset.url, o.publicBaseUrl).href;
        return {
          contents: [
            {
              uri,
              mimeType: 'text/plain',
              text: `${asset.filename} is ${asset.byteSize} bytes (${asset.contentType}), more than the ${MAX_RESOURCE_READ_BYTES} bytes resources/read returns. Download it from ${url} (with your API key as a Bearer token in authenticated mode).`,
            },
          ],
        };
      }
      const bytes = await readAssetBytes(o.client, companyId, asset.id, MAX_RESOURCE_READ_BYTES, extra.signal);
      const base = { uri, mimeType: asset.contentType };
      return { contents: [isTextType(asset.contentType) ? { ...base, text: bytes.toString('utf8') } : { ...base, blob: bytes.toString('base64') }] };
    } catch (err) {
      if (err instanceof KilnApiError && (err.code === 'asset_not_found' || err.code === 'company_not_found')) {
        throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
      }
      throw err;
    }
  });

  await server.connect(transport);
  return { server, activeCalls: () => active };
}

const kindToolArgs = z.strictObject({
  input: z.unknown().refine((v) => v !== undefined, 'Required: the renderer input.'),
  outputName: z.string().optional(),
  sourceTaskId: z.string().optional(),
  companyId: z.string().min(1).max(64).optional(),
  waitSeconds: z.number().int().min(0).max(86_400).optional(),
});

/** The wait-elapsed abort, told apart from the client's. */
class WaitElapsed extends Error {}

/**
 * A kind tool: create the job, follow its events (progress notifications from
 * `content_job.progress`), and answer with the finished job. The input itself is checked by Kiln,
 * whose validation_failed details come back as the error result.
 */
function kindToolHandler(kind: string): ToolHandler {
  return {
    tool: { name: toolNameForKind(kind), inputSchema: { type: 'object' } },
    async run(call, ctx): Promise<CallToolResult> {
      const a = kindToolArgs.parse(call.args);
      const companyId = await ctx.companyFor(a.companyId);
      // Not tied to the call's signal: once the request is sent the job may exist, and a job that
      // exists is canceled below rather than left behind by an aborted request.
      const created = await ctx.client.createJob(companyId, { kind, input: a.input, outputName: a.outputName, sourceTaskId: a.sourceTaskId });
      const jobId = created.jobId;
      const follow = new AbortController();
      const onAbort = () => follow.abort(call.signal.reason);
      if (call.signal.aborted) onAbort();
      else call.signal.addEventListener('abort', onAbort, { once: true });
      const timer = a.waitSeconds === undefined ? null : setTimeout(() => follow.abort(new WaitElapsed()), a.waitSeconds * 1000);
      let job;
      try {
        job = await ctx.client.waitForJob(companyId, jobId, {
          signal: follow.signal,
          onEvent: (item) => {
            if (item.type === 'content_job.progress' && typeof item.payload.progress === 'number') {
              call.progress(item.payload.progress, item.payload.stage ?? undefined);
            }
          },
        });
      } catch (err) {
        if (call.signal.aborted) {
          if (call.canceledByClient()) await ctx.client.cancelJob(companyId, jobId).catch(() => {});
          throw err;
        }
        if (!(follow.signal.reason instanceof WaitElapsed)) throw err;
        job = await ctx.client.getJob(companyId, jobId);
      } finally {
        if (timer) clearTimeout(timer);
        call.signal.removeEventListener('abort', onAbort);
      }
      return jobToolResult(job, ctx, { inline: true, failureIsError: true, signal: call.signal });
    },
  };
}
