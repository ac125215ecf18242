import { RenderError } from '@kiln/renderers';
import type { ProviderConfig } from './provider-config.js';

/** A Retry-After longer than this is taken as this: a job should not sleep for a day. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** A 429 without Retry-After waits this long (the lifecycle's backoff does not apply to free retries). */
export const DEFAULT_THROTTLE_MS = 5000;
/** How much of a provider's message goes into the job's error. */
const MAX_MESSAGE_CHARS = 500;

/**
 * How long the provider asked us to wait: `retry-after-ms` (OpenAI sends it), else `Retry-After`
 * as seconds or an HTTP date. Undefined when it says nothing usable.
 */
export function retryAfterMsOf(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/**
 * Takes the provider's API key out of any text that leaves the provider code (error messages,
 * details, log lines): a local server may well echo the Authorization header it refused.
 */
export function redactKey(provider: Pick<ProviderConfig, 'apiKey'>, text: string): string {
  const key = provider.apiKey?.reveal();
  return key ? text.split(key).join('[redacted]') : text;
}

/** The OpenAI error shape `{ error: { message, type, code, param } }`, or whatever text came. */
function describeAnswer(bodyText: string): { message: string; code?: string; type?: string } {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { message?: unknown; code?: unknown; type?: unknown } | string; message?: unknown };
    const e = parsed?.error;
    if (typeof e === 'string') return { message: e };
    if (e && typeof e === 'object') {
      return {
        message: typeof e.message === 'string' ? e.message : 'no message',
        code: typeof e.code === 'string' ? e.code : undefined,
        type: typeof e.type === 'string' ? e.type : undefined,
      };
    }
    if (typeof parsed?.message === 'string') return { message: parsed.message };
  } catch {
    /* not JSON: use the text */
  }
  return { message: bodyText.trim() || 'no message' };
}

/**
 * The one table from a provider's HTTP answer to a job outcome:
 * - 429 → `provider_rate_limited`, retried after Retry-After (or DEFAULT_THROTTLE_MS) without
 *   spending an attempt (`freeRetry`; the lifecycle bounds how many);
 * - 5xx, 408 → `provider_error`, an ordinary retry (after Retry-After when given, else backoff);
 * - 401, 403 → `provider_auth_failed`, never retried (the key is wrong; retrying cannot fix it);
 * - any other 4xx (400 bad input or content policy, 404 unknown model, 422 …) → `provider_rejected`
 *   with the provider's own message, never retried.
 */
export function errorFromAnswer(provider: ProviderConfig, what: string, status: number, headers: Headers, bodyText: string): RenderError {
  const { message, code, type } = describeAnswer(bodyText);
  const said = redactKey(provider, message).replace(/\s+/g, ' ').slice(0, MAX_MESSAGE_CHARS);
  const label = [code, type].filter(Boolean).join(', ');
  const text = `${provider.name} answered ${status}${label ? ` (${label})` : ''} to ${what}: ${said}`;
  const details = { provider: provider.name, status, ...(code ? { providerCode: code } : {}), ...(type ? { providerType: type } : {}) };
  const retryAfterMs = retryAfterMsOf(headers);
  if (status === 429) {
    return new RenderError('provider_rate_limited', text, { retryable: true, freeRetry: true, retryAfterMs: retryAfterMs ?? DEFAULT_THROTTLE_MS, details });
  }
  if (status >= 500 || status === 408) {
    return new RenderError('provider_error', text, { retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), details });
  }
  if (status === 401 || status === 403) return new RenderError('provider_auth_failed', text, { retryable: false, details });
  if (status >= 400) return new RenderError('provider_rejected', text, { retryable: false, details });
  // 1xx/3xx: redirects are not followed, anything else is not an answer.
  return new RenderError('provider_error', `${provider.name} answered ${status} to ${what}, which Kiln does not follow`, { retryable: false, details });
}

/** The provider could not be reached, or the connection broke: may well pass. */
export function unreachable(provider: ProviderConfig, what: string, err: unknown): RenderError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new RenderError('provider_error', redactKey(provider, `${provider.name} could not be reached for ${what}: ${why}`), { retryable: true });
}

/** An answer Kiln cannot read (malformed JSON, a shape it does not know): retried, it may be a proxy's hiccup. */
export function unreadable(provider: ProviderConfig, what: string, why: string, options: { retryable?: boolean } = {}): RenderError {
  return new RenderError('provider_error', redactKey(provider, `${provider.name} answered ${what} with something Kiln cannot use: ${why}`.slice(0, 800)), {
    retryable: options.retryable ?? true,
  });
}
