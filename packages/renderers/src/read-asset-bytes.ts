import { RenderError, type InputAsset, type RenderContext } from './contract.js';

/**
 * Reads an input asset (a logo, a chart's data, an image in a document) into memory, refusing it
 * as soon as it passes `maxBytes`: these inputs are needed whole by the libraries that consume them
 * (sharp, vega, data: URIs), so the bound is what keeps one job from exhausting the worker.
 */
export async function readAssetBytes(
  ctx: RenderContext,
  assetId: string,
  options: {
    maxBytes: number;
    purpose: string;
    /** Sees each chunk as it arrives (to refuse content early); throwing stops the read. */
    onChunk?: (chunk: Buffer, asset: InputAsset) => void;
  },
): Promise<{ asset: InputAsset; bytes: Buffer }> {
  const asset = await ctx.readAsset(assetId);
  if (asset.byteSize > options.maxBytes) {
    asset.stream.destroy();
    throw tooLarge(assetId, options);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const onAbort = () => asset.stream.destroy(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of asset.stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += buf.length;
      if (total > options.maxBytes) throw tooLarge(assetId, options);
      options.onChunk?.(buf, asset);
      chunks.push(buf);
    }
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    asset.stream.destroy();
  }
  return { asset, bytes: Buffer.concat(chunks, total) };
}

function tooLarge(assetId: string, options: { maxBytes: number; purpose: string }): RenderError {
  const mib = Math.round(options.maxBytes / (1024 * 1024));
  return new RenderError('render_failed', `Asset ${assetId} is too large for ${options.purpose} (limit ${mib} MiB).`);
}
