import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { OutboundRefusal, type OutboundGuard } from '../services/webhooks/outbound-guard.js';
import { pinnedLookup } from '../services/webhooks/pinned-post.js';
import type { ProviderConfig } from './provider-config.js';
import { errorFromAnswer, unreachable, unreadable } from './provider-errors.js';

/** Largest JSON answer read (four base64 images at a few MB each fit easily). */
export const MAX_PROVIDER_JSON_BYTES = 64 * 1024 * 1024;
/** How much of an error answer is read for its message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface ProviderHttpDeps {
  /** Vets URLs a provider returns on another origin than its baseUrl (resolved, pinned, no private addresses). */
  guard: OutboundGuard;
}

/** A provider's answer body as a Node stream, with what its headers said. */
export interface ProviderDownload {
  body: Readable;
  contentType: string | null;
  requestId: string | null;
}

export interface ProviderJson<T> {
  body: T;
  requestId: string | null;
}

export type FormFields = Record<string, string | { bytes: Buffer; contentType: string; filename: string }>;

/**
 * The HTTP side of an OpenAI-compatible provider: paths appended to `baseUrl`, the key as a Bearer
 * token (only ever to `baseUrl`'s origin), no redirects followed, every failure turned into a
 * RenderError by the one table in provider-errors.ts. An abort (cancel, timeout) rejects with the
 * signal's reason, so the job runner sees why the job stopped.
 */
export function createOpenAiClient(provider: ProviderConfig, deps: ProviderHttpDeps) {
  const origin = new URL(provider.baseUrl).origin;
  const auth = (): Record<string, string> => (provider.apiKey ? { authorization: `Bearer ${provider.apiKey.reveal()}` } : {});

  async function send(method: string, url: string, what: string, signal: AbortSignal, body?: { json?: unknown; form?: FormFields }, timeoutMs?: number): Promise<Response> {
    const headers: Record<string, string> = { ...auth(), accept: '*/*' };
    let payload: string | FormData | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.form) {
      const form = new FormData();
      for (const [name, value] of Object.entries(body.form)) {
        if (typeof value === 'string') form.append(name, value);
        else form.append(name, new Blob([new Uint8Array(value.bytes)], { type: value.contentType }), value.filename);
      }
      payload = form;
    }
    let res: Response;
    try {
      // A call that may hang without costing anything to repeat (a status poll) has its own limit.
      const bounded = timeoutMs ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal;
      res = await fetch(url, { method, headers, body: payload, signal: bounded, redirect: 'manual' });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(provider, what, err);
    }
    if (res.status >= 200 && res.status < 300) return res;
    const text = await readText(res, MAX_ERROR_BODY_BYTES, signal).catch(() => {
      if (signal.aborted) throw signal.reason;
      return '';
    });
    throw errorFromAnswer(provider, what, res.status, res.headers, text);
  }

  async function json<T>(method: string, path: string, what: string, signal: AbortSignal, body?: { json?: unknown; form?: FormFields }, timeoutMs?: number): Promise<ProviderJson<T>> {
    const res = await send(method, provider.baseUrl + path, what, signal, body, timeoutMs);
    let text: string;
    try {
      text = await readText(res, MAX_PROVIDER_JSON_BYTES, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof AnswerTooLarge) throw unreadable(provider, what, err.message, { retryable: false });
      throw unreachable(provider, what, err);
    }
    try {
      return { body: JSON.parse(text) as T, requestId: res.headers.get('x-request-id') };
    } catch (err) {
      throw unreadable(provider, what, `malformed JSON (${(err as Error).message})`);
    }
  }

  async function stream(method: string, url: string, what: string, signal: AbortSignal, body?: { json?: unknown }): Promise<ProviderDownload> {
    const res = await send(method, url, what, signal, body);
    if (!res.body) throw unreadable(provider, what, 'an empty answer');
    return {
      body: Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
      contentType: res.headers.get('content-type'),
      requestId: res.headers.get('x-request-id'),
    };
  }

  return {
    provider,
    postJson: <T>(path: string, body: unknown, what: string, signal: AbortSignal) => json<T>('POST', path, what, signal, { json: body }),
    postForm: <T>(path: string, form: FormFields, what: string, signal: AbortSignal) => json<T>('POST', path, what, signal, { form }),
    /** A GET of JSON; `timeoutMs` bounds a call that is cheap to repeat (its expiry is a retryable provider_error). */
    getJson: <T>(path: string, what: string, signal: AbortSignal, timeoutMs?: number) => json<T>('GET', path, what, signal, undefined, timeoutMs),
    /** A binary answer (speech audio, video content), streamed. */
    postForBytes: (path: string, body: unknown, what: string, signal: AbortSignal) => stream('POST', provider.baseUrl + path, what, signal, { json: body }),
    getBytes: (path: string, what: string, signal: AbortSignal) => stream('GET', provider.baseUrl + path, what, signal),
    async delete(path: string, what: string, signal: AbortSignal): Promise<void> {
      const res = await send('DELETE', provider.baseUrl + path, what, signal);
      await res.body?.cancel().catch(() => undefined);
    },
    /**
     * A URL the provider answered with (an image's `url`). On `baseUrl`'s origin it is fetched like
     * any call (with the key); anywhere else it goes through the outbound guard — resolved, every
     * address checked, connected to the vetted address, no redirects — and never carries the key.
     */
    async download(rawUrl: string, what: string, signal: AbortSignal): Promise<ProviderDownload> {
      let url: URL;
      try {
        url = new URL(rawUrl);
      } catch {
        throw unreadable(provider, what, 'a URL that does not parse', { retryable: false });
      }
      if (url.origin === origin) return stream('GET', url.href, what, signal);
      let target;
      try {
        target = await deps.guard.vet(url.href);
      } catch (err) {
        if (!(err instanceof OutboundRefusal)) throw err;
        throw unreadable(provider, what, `a URL Kiln may not fetch (${err.message})`, { retryable: false });
      }
      const res = await getPinned(target, signal).catch((err) => {
        if (signal.aborted) throw signal.reason;
        throw unreachable(provider, what, err);
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.destroy();
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        throw errorFromAnswer(provider, what, status, headers, '');
      }
      return { body: res, contentType: res.headers['content-type'] ?? null, requestId: null };
    },
  };
}

export type OpenAiClient = ReturnType<typeof createOpenAiClient>;

/** A GET to a vetted target: its address only, no redirects, no key, fresh socket. */
function getPinned(target: Awaited<ReturnType<OutboundGuard['vet']>>, signal: AbortSignal): Promise<IncomingMessage> {
  const { url, hostname } = target;
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      method: 'GET',
      hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      agent: false,
      lookup: pinnedLookup(target),
      signal,
      ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

class AnswerTooLarge extends Error {}

/** Reads a fetch answer as text, refusing it past `maxBytes`. */
async function readText(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (signal.aborted) throw signal.reason;
    total += chunk.byteLength;
    if (total > maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new AnswerTooLarge(`an answer larger than ${Math.round(maxBytes / 1024)} KiB`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
