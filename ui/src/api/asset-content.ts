import type { KilnClient } from '@kiln/client';
import type { AssetView } from '@kiln/shared';

/**
 * The asset's bytes as a Blob, through the client (so with the API key). Media elements cannot
 * send an `Authorization` header, so in authenticated mode they show blob: URLs made from this.
 */
export async function assetBlob(client: KilnClient, asset: AssetView, signal?: AbortSignal): Promise<Blob> {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) });
  const { contentType } = await client.downloadAsset(asset.companyId, asset.id, sink, { signal });
  return new Blob(chunks as BlobPart[], { type: contentType ?? asset.contentType });
}

/**
 * The first `maxBytes` of the asset (a text preview of a possibly large CSV): the download is
 * stopped once that much has arrived, so the rest is never transferred.
 */
export async function assetStart(client: KilnClient, asset: AssetView, maxBytes: number, signal?: AbortSignal): Promise<Blob> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  const enough = new AbortController();
  const stop = () => enough.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(chunk);
      received += chunk.byteLength;
      if (received >= maxBytes) enough.abort();
    },
  });
  try {
    await client.downloadAsset(asset.companyId, asset.id, sink, { signal: enough.signal });
  } catch (err) {
    // Our own stop after enough bytes is the expected way out; anything else is a failure.
    if (signal?.aborted || received < maxBytes) throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return new Blob(chunks as BlobPart[], { type: asset.contentType }).slice(0, maxBytes);
}
