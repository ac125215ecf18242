import { KilnApiError } from '@kiln/client';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * Failures a model can act on (bad input, a missing job, another company, a full queue) are tool
 * results with `isError: true` — not protocol errors — so the model sees the code, message and
 * field details and can correct itself.
 */
export function toolError(code: string, message: string, details?: unknown, status?: number): CallToolResult {
  const error = { code, message, ...(details !== undefined ? { details } : {}), ...(status ? { status } : {}) };
  const detailLines = Array.isArray(details)
    ? details.map((d: { path?: unknown[]; message?: string }) => `  ${(d.path ?? []).join('.') || '(input)'}: ${d.message ?? JSON.stringify(d)}`)
    : details !== undefined
      ? [`  ${JSON.stringify(details)}`]
      : [];
  return {
    content: [{ type: 'text', text: [`Error ${code}: ${message}`, ...detailLines].join('\n') }],
    structuredContent: { error },
    isError: true,
  };
}

/** A Kiln API answer (or an unreachable server) as a tool error. */
export function errorResult(err: unknown): CallToolResult {
  if (err instanceof KilnApiError) return toolError(err.code, err.message, err.details, err.status || undefined);
  if (err instanceof z.ZodError) {
    const details = err.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
    return toolError('validation_failed', 'The tool arguments are not valid.', details);
  }
  return toolError('internal_error', (err as Error)?.message ?? String(err));
}
