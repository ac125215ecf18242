import { KilnApiError, errorFromResponse } from './kiln-api-error.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpTransportOptions {
  baseUrl: string;
  apiKey?: string;
  fetch?: FetchLike;
}

export interface RequestOptions {
  body?: unknown;
  /** Bytes sent as they are (uploads), with `contentType`; streams are sent without buffering. */
  rawBody?: BodyInit;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export type HttpTransport = ReturnType<typeof createHttpTransport>;

/** True when `err` is the caller's own abort rather than a failure to reach the server. */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'AbortError';
}

/**
 * The one place that talks to fetch: base URL, auth header, JSON bodies, and mapping failures
 * to KilnApiError (server answers keep their code; an unreachable server is `network_error`).
 */
export function createHttpTransport(options: HttpTransportOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  // Called through a wrapper, not stored: browsers reject `fetch` invoked with a foreign `this`.
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  function url(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends a request and returns the response when it is 2xx; throws KilnApiError otherwise. */
  async function send(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.rawBody !== undefined) headers['content-type'] = o.contentType ?? 'application/octet-stream';
    const streaming = typeof ReadableStream !== 'undefined' && o.rawBody instanceof ReadableStream;
    let res: Response;
    try {
      res = await doFetch(url(path, o.query), {
        method,
        headers,
        body: o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
        signal: o.signal,
        // A streamed request body must say so (fetch's `duplex`, required by Node for streams).
        ...(streaming ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      if (isAbortError(err) || o.signal?.aborted) throw err;
      throw new KilnApiError(0, 'network_error', `Could not reach Kiln at ${baseUrl || '(same origin)'}: ${describe(err)}`, undefined, undefined, { cause: err });
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async function json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await send(method, path, o);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KilnApiError(res.status, 'unexpected_response', `Expected JSON from ${method} ${path}.`, { body: text.slice(0, 500) });
    }
  }

  return { baseUrl, send, json };
}

/** fetch's own errors say only "fetch failed"; the useful part (ECONNREFUSED, …) is in `cause`. */
function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return [e?.message ?? String(err), cause].filter(Boolean).join(': ');
}
