import type { KilnClient } from '@kiln/client';
import type { AssetView, JobView } from '@kiln/shared';
import type { CallToolResult, ContentBlock, ResourceLink } from '@modelcontextprotocol/sdk/types.js';
import { MAX_INLINE_IMAGE_BYTES, assetUri, isInlineImageType, readAssetBytes } from './asset-content.js';

/** What turning Kiln answers into tool results needs to know about the connection. */
export interface ResultContext {
  client: KilnClient;
  /** The company `kiln://assets/<id>` stands for on this connection. */
  connectionCompanyId: string | null;
  /** Where the agent reaches this Kiln, to make asset URLs absolute. */
  publicBaseUrl: string;
}

/** An asset as tool results describe it: its MCP URI first, then what to know before reading it. */
export function assetSummary(asset: AssetView, ctx: ResultContext) {
  return {
    assetId: asset.id,
    uri: assetUri(asset, ctx.connectionCompanyId),
    role: asset.role,
    filename: asset.filename,
    contentType: asset.contentType,
    byteSize: asset.byteSize,
    metadata: asset.metadata,
    url: absoluteUrl(asset.url, ctx.publicBaseUrl),
    jobId: asset.jobId,
    sourceTaskId: asset.sourceTaskId,
    createdAt: asset.createdAt,
  };
}

export function resourceLink(asset: AssetView, ctx: ResultContext, description?: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: assetUri(asset, ctx.connectionCompanyId),
    name: asset.filename,
    mimeType: asset.contentType,
    size: asset.byteSize,
    ...(description ? { description } : {}),
    ...(asset.role === 'preview' ? { annotations: { priority: 0.2 } } : {}),
  };
}

function absoluteUrl(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** The job in the shape tool results use (also their `structuredContent`). */
export function jobSummary(job: JobView, ctx: ResultContext) {
  return {
    jobId: job.id,
    companyId: job.companyId,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    stage: job.stage,
    sourceTaskId: job.sourceTaskId,
    warnings: job.warnings,
    error: job.error,
    outputs: job.outputs.map((a) => assetSummary(a, ctx)),
    previews: job.assets.filter((a) => a.role === 'preview').map((a) => assetSummary(a, ctx)),
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

function headline(job: JobView): string {
  const outputs = job.outputs.map((a) => `${a.filename} (${a.contentType}, ${a.byteSize} bytes)`).join(', ');
  switch (job.status) {
    case 'done':
      return `Job ${job.id} (${job.kind}) is done: ${outputs || 'no primary output'}.${job.warnings.length ? ` Warnings: ${job.warnings.join(' | ')}` : ''}`;
    case 'failed':
      return `Job ${job.id} (${job.kind}) failed: ${job.error?.code ?? 'unknown'}: ${job.error?.message ?? ''}`;
    case 'canceled':
      return `Job ${job.id} (${job.kind}) was canceled.`;
    default:
      return (
        `Job ${job.id} (${job.kind}) is ${job.status}` +
        `${job.status === 'running' ? ` (${Math.round(job.progress * 100)}%${job.stage ? `, ${job.stage}` : ''})` : ''}; ` +
        `it keeps going: call get_job { "jobId": "${job.id}", "waitSeconds": 60 } to wait for it.`
      );
  }
}

/**
 * A job as a tool result: a line and the job as JSON, each primary output as a resource link,
 * previews as low-priority links, and with `inline` the primary image itself (or, for an SVG or
 * AVIF, its raster preview) when it is small enough. `failureIsError`: a failed or canceled job
 * is the call's failure (the generate tools), rather than a fact it reports (get_job).
 */
export async function jobToolResult(job: JobView, ctx: ResultContext, o: { inline: boolean; failureIsError: boolean; signal?: AbortSignal }): Promise<CallToolResult> {
  const summary = jobSummary(job, ctx);
  const content: ContentBlock[] = [{ type: 'text', text: `${headline(job)}\n${JSON.stringify(summary)}` }];
  if (o.inline && job.status === 'done') {
    const image = inlineCandidate(job);
    if (image) {
      const bytes = await readAssetBytes(ctx.client, job.companyId, image.id, MAX_INLINE_IMAGE_BYTES, o.signal);
      content.push({ type: 'image', data: bytes.toString('base64'), mimeType: image.contentType.split(';')[0]!.trim() });
    }
  }
  for (const a of job.outputs) content.push(resourceLink(a, ctx, `Output of ${job.kind} job ${job.id}`));
  for (const a of job.assets) if (a.role === 'preview') content.push(resourceLink(a, ctx, `Preview of the output of job ${job.id}`));
  const failed = job.status === 'failed' || job.status === 'canceled';
  return { content, structuredContent: summary, ...(failed && o.failureIsError ? { isError: true } : {}) };
}

function inlineCandidate(job: JobView): AssetView | null {
  const primary = job.output;
  if (!primary || !primary.contentType.startsWith('image/')) return null;
  if (isInlineImageType(primary.contentType)) return primary.byteSize <= MAX_INLINE_IMAGE_BYTES ? primary : null;
  const preview = job.assets.find((a) => a.role === 'preview' && isInlineImageType(a.contentType) && a.byteSize <= MAX_INLINE_IMAGE_BYTES);
  return preview ?? null;
}
