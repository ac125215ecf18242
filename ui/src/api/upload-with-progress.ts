import { createKilnClient, type FetchLike } from '@kiln/client';
import type { AssetView } from '@kiln/shared';

export interface UploadProgress {
  loaded: number;
  /** NaN when the browser cannot tell. */
  total: number;
}

/**
 * `client.upload` with progress. fetch cannot report how much of a request body has been sent,
 * so this upload goes through a client whose fetch is XMLHttpRequest underneath (same headers,
 * same answers, same KilnApiError on failure); everything else uses the ordinary client.
 */
export function uploadWithProgress(
  apiKey: string | null,
  companyId: string,
  file: File,
  o: { signal?: AbortSignal; onProgress(p: UploadProgress): void },
): Promise<AssetView> {
  const client = createKilnClient({ baseUrl: '', apiKey: apiKey ?? undefined, fetch: xhrFetch(o.onProgress) });
  return client.upload(companyId, file, { filename: file.name, contentType: file.type || undefined, signal: o.signal });
}

function xhrFetch(onProgress: (p: UploadProgress) => void): FetchLike {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(init.method ?? 'GET', input);
      new Headers(init.headers).forEach((value, name) => xhr.setRequestHeader(name, value));
      xhr.responseType = 'blob';
      xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : NaN });
      xhr.onload = () => {
        const headers = new Headers();
        for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
        }
        const empty = xhr.status === 204 || xhr.status === 304;
        resolve(new Response(empty ? null : (xhr.response as Blob), { status: xhr.status, statusText: xhr.statusText, headers }));
      };
      // The same errors fetch would throw, so the client maps them the same way.
      xhr.onerror = () => reject(new TypeError('Failed to fetch'));
      xhr.onabort = () => reject(new DOMException('The upload was aborted.', 'AbortError'));
      const signal = init.signal;
      if (signal?.aborted) return reject(new DOMException('The upload was aborted.', 'AbortError'));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send((init.body ?? null) as XMLHttpRequestBodyInit | null);
    });
}
