import { authHeaders } from './api-key.js';

export interface ErrorDetail {
  path: (string | number)[];
  message: string;
}

/** A non-2xx answer, carrying Kiln's `{ error: { code, message, details } }` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: ErrorDetail[] } };
      if (body.error?.code) return new ApiError(res.status, body.error.code, body.error.message ?? res.statusText, body.error.details ?? []);
    } catch {
      /* not JSON: fall through */
    }
    return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}`.trim());
  }
}

export const isUnauthorized = (err: unknown) => err instanceof ApiError && err.status === 401;

/** JSON in, JSON out, with the stored API key. Relative paths: the UI is served by the API's own origin. */
export async function apiFetch<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  if (!res.ok) throw await ApiError.fromResponse(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
