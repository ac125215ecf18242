import type { ErrorBody } from '@kiln/shared';

/**
 * Codes the client itself produces, for failures that have no server answer behind them.
 * Server codes (`job_not_found`, `validation_failed`, …) come from `ERROR_CODES` in `@kiln/shared`.
 */
export type ClientErrorCode = 'network_error' | 'unexpected_response' | 'download_incomplete';

/**
 * The one error the SDK throws for a failed call. `status` and `code` are the server's
 * (`{ error: { code, message, details } }`); `status` is 0 when no response arrived at all
 * (`network_error`). Branch on `code`, never on `message`.
 *
 * @example
 * try { await kiln.getJob(companyId, jobId) }
 * catch (err) { if (err instanceof KilnApiError && err.code === 'job_not_found') … }
 */
export class KilnApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
    /** The server's `x-request-id`, to find the request in its logs. */
    public readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KilnApiError';
  }
}

/** Turns a non-2xx response into a KilnApiError, keeping the server's code when it sent one. */
export async function errorFromResponse(res: Response): Promise<KilnApiError> {
  const requestId = res.headers.get('x-request-id') ?? undefined;
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error && typeof body.error.code === 'string') {
      return new KilnApiError(res.status, body.error.code, body.error.message ?? res.statusText, body.error.details, requestId);
    }
  } catch {
    // Not JSON: a proxy's error page, for instance. Fall through to a generic error.
  }
  return new KilnApiError(res.status, 'unexpected_response', `HTTP ${res.status} ${res.statusText}`.trim(), text ? { body: text.slice(0, 500) } : undefined, requestId);
}
