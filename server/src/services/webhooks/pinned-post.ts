import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { VettedTarget } from './outbound-guard.js';

export const DEFAULT_POST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface PinnedPostOptions {
  headers: Record<string, string>;
  body: Buffer;
  /** For the whole exchange: connect, send, answer headers and the body read. */
  timeoutMs?: number;
  /** Read at most this much of the answer, then drop the connection. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export interface PinnedPostResult {
  statusCode: number;
  /** Bytes of the answer's body read (at most maxResponseBytes). */
  bytesRead: number;
  /** The answer was longer than maxResponseBytes and was cut. */
  truncated: boolean;
}

/**
 * A `lookup` for http(s).request that hands back the vetted address instead of resolving the
 * name again (shared with the provider kinds' downloads of URLs a model API returns).
 */
export function pinnedLookup(target: Pick<VettedTarget, 'address' | 'family'>): LookupFunction {
  const { address, family } = target;
  // Node calls it with `all: true` when it races address families (autoSelectFamily).
  return ((_name: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

/**
 * POSTs to a vetted target, connecting to the vetted address only: the request's `lookup` hands
 * back that address instead of resolving the name again, so a DNS answer that changed since the
 * check (rebinding) is never used, while Host and TLS SNI/certificate checks still use the name.
 * Redirects are not followed (the caller sees the 3xx). No connection pooling: every request
 * gets a fresh socket made through this lookup.
 */
export function postToVettedTarget(target: VettedTarget, o: PinnedPostOptions): Promise<PinnedPostResult> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS;
  const maxBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { url, hostname } = target;
  const secure = url.protocol === 'https:';

  const lookup = pinnedLookup(target);

  return new Promise<PinnedPostResult>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, result?: PinnedPostResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = () => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${Math.round(timeoutMs / 100) / 10} s`)), timeoutMs);

    const req = (secure ? https : http).request({
      method: 'POST',
      hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { ...o.headers, 'content-length': String(o.body.length) },
      agent: false,
      lookup,
      // SNI must be a name, never an IP literal (RFC 6066).
      ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
      ...(url.username ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
    });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      let bytesRead = 0;
      res.on('data', (chunk: Buffer) => {
        bytesRead += chunk.length;
        if (bytesRead > maxBytes) finish(null, { statusCode: res.statusCode ?? 0, bytesRead: maxBytes, truncated: true });
      });
      res.on('end', () => finish(null, { statusCode: res.statusCode ?? 0, bytesRead, truncated: false }));
      res.on('error', (err) => finish(err));
    });
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(o.body);
  });
}
