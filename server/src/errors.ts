import { ERROR_CODES, type ErrorCode } from '@kiln/shared';

/** The one error type of the HTTP layer and services: a status, a stable code, a message. */
export class KilnError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: ErrorCode | string,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = 'KilnError';
  }

  static of(code: ErrorCode, message?: string, details?: unknown): KilnError {
    const entry = ERROR_CODES[code];
    return new KilnError(entry.status, code, message ?? entry.message, details);
  }
}

export const validationFailed = (details: unknown, message = 'The request is not valid.') =>
  KilnError.of('validation_failed', message, details);

export interface IssueLike {
  path: PropertyKey[];
  message: string;
  code?: string;
}

/** zod issues → the `details` array of a validation_failed response. */
export function issuesToDetails(issues: readonly IssueLike[], prefix: (string | number)[] = []) {
  return issues.map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
    ...(i.code ? { code: i.code } : {}),
  }));
}
