import { ERROR_CODES, type ErrorCode } from '@kiln/shared';

/** The one error type of the HTTP layer and services: a status, a stable code, a message. */
export class KilnError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: ErrorCode | string,
    message: string,
    public readonly details?: unknown,
    /** Response headers that go with the error (Retry-After on 429 and 503). */
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KilnError';
  }

  static of(code: ErrorCode, message?: string, details?: unknown, headers?: Record<string, string>): KilnError {
    const entry = ERROR_CODES[code];
    return new KilnError(entry.status, code, message ?? entry.message, details, headers);
  }
}

/** 429/503 with Retry-After in whole seconds. */
export const retryLater = (code: 'rate_limited' | 'queue_full' | 'database_unavailable' | 'database_busy' | 'server_busy', seconds: number, message?: string, details?: unknown) =>
  KilnError.of(code, message, details, { 'retry-after': String(Math.max(1, Math.ceil(seconds))) });

export const validationFailed = (details: unknown, message = 'The request is not valid.') =>
  KilnError.of('validation_failed', message, details);

export interface IssueLike {
  path: PropertyKey[];
  message: string;
  code?: string;
  /** zod's too_big issues carry the cap and what it measures (`string`, `array`, `number` …)… */
  maximum?: unknown;
  origin?: unknown;
  /** …and custom cap checks carry `{ limit, actual }`. */
  params?: Record<string, unknown>;
}

/**
 * zod issues → the `details` array of a validation_failed response. A cap that was exceeded
 * says so: `limit`, and `actual` — from the check, or, for zod's own maxima, measured on `input`
 * (the value the issues' paths start from) the way zod measured it.
 */
export function issuesToDetails(issues: readonly IssueLike[], prefix: (string | number)[] = [], input?: unknown) {
  return issues.map((i) => {
    const limit = typeof i.params?.limit === 'number' ? i.params.limit : i.code === 'too_big' && typeof i.maximum === 'number' ? i.maximum : undefined;
    const actual = typeof i.params?.actual === 'number' ? i.params.actual : i.code === 'too_big' ? measured(valueAt(input, i.path), i.origin) : undefined;
    return {
      path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: i.message,
      ...(i.code ? { code: i.code } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(actual !== undefined ? { actual } : {}),
    };
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** What a zod maximum counted: a string's or array's length, a number (a query's `"500"` is coerced, as zod did). */
function measured(value: unknown, origin: unknown): number | undefined {
  const n = origin === 'number' || origin === 'int' || origin === 'bigint' ? Number(value) : typeof value === 'string' || Array.isArray(value) ? value.length : NaN;
  return Number.isFinite(n) ? n : undefined;
}
