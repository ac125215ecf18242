import { ERROR_CODES, LIVE_EVENT_TYPES, TERMINAL_EVENT_TYPES, type ErrorCode } from '@kiln/shared';
import { schemaRef, type HeaderObject, type ResponseObject } from './openapi-types.js';

/** A JSON response whose body is the named component schema. */
export function jsonResponse(description: string, schema: string, headers?: Record<string, HeaderObject>): ResponseObject {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: schemaRef(schema) } } };
}

/** Every error a JSON request body can meet before the route sees it. */
export const JSON_BODY_ERRORS: ErrorCode[] = ['validation_failed', 'invalid_json', 'unsupported_media_type', 'payload_too_large'];

/**
 * Error responses, grouped by status: each lists its stable codes (in the description, in an
 * `enum` narrowing `error.code`, and as one example per code) over the shared ErrorBody schema.
 */
export function errorResponses(codes: readonly ErrorCode[], notes: Partial<Record<ErrorCode, string>> = {}): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, ResponseObject> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      // A Markdown list when a status has several codes.
      description: group.map((code) => `${group.length > 1 ? '- ' : ''}\`${code}\`: ${notes[code] ?? ERROR_CODES[code].message}`).join('\n'),
      content: {
        'application/json': {
          schema: {
            allOf: [schemaRef('ErrorBody')],
            properties: { error: { properties: { code: { enum: group } } } },
          },
          examples: Object.fromEntries(
            group.map((code) => [code, { summary: code, value: { error: { code, message: ERROR_CODES[code].message } } }]),
          ),
        },
      },
    };
  }
  return responses;
}

/**
 * A Server-Sent Events response. OpenAPI 3.1 has no schema for individual events, so the event
 * types and the schema of each one's `data` are listed in `x-kiln-events` as well as in prose.
 */
export function sseResponse(o: {
  snapshotSchema: string;
  snapshotWhat: string;
  closes: boolean;
  keepAliveMs: number;
  /** Live-only event types (no `id:`, never stored or replayed): type → [component schema, when it is sent]. */
  liveOnly?: Record<string, [schema: string, when: string]>;
}): ResponseObject {
  const liveOnly = Object.entries(o.liveOnly ?? {});
  const terminal = TERMINAL_EVENT_TYPES.map((t) => `\`${t}\``).join(', ');
  const description = [
    'A `text/event-stream`. Each event has `event:` (its type) and `data:` (JSON);',
    `the first is \`snapshot\` (no \`id:\`; data: ${o.snapshotWhat}), then stored events and live ones, each with \`id:\``,
    `(resume after it with Last-Event-ID) and data \`LiveEventData\`. Live types: ${LIVE_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}.`,
    ...liveOnly.map(([type, [schema, when]]) => `\`${type}\` (data \`${schema}\`) is live-only: ${when} It has no \`id:\`, is never stored or replayed, and does not change where Last-Event-ID resumes.`),
    `A comment line (\`: keep-alive\`) is sent every ${Math.round(o.keepAliveMs / 1000)} s.`,
    o.closes ? `The stream closes after the job's terminal event (${terminal}).` : 'The stream stays open.',
  ].join(' ');
  const example = [
    'retry: 2000',
    '',
    'event: snapshot',
    `data: {"…": "${o.snapshotSchema}"}`,
    '',
    'id: 41',
    'event: content_job.running',
    'data: {"jobId":"7b0c8a36-3c0e-4d5f-9d42-3f4b9c5f0a11","status":"running","progress":0,"stage":null,"attempt":1,"eventId":"41","createdAt":"2025-01-01T12:00:00.000Z"}',
    '',
    ': keep-alive',
    '',
  ].join('\n');
  return {
    description,
    headers: { 'Cache-Control': { description: '`no-cache, no-transform`', schema: { type: 'string' } } },
    content: {
      'text/event-stream': {
        schema: { type: 'string', description: 'Server-Sent Events (see the response description).' },
        example,
        'x-kiln-events': {
          snapshot: schemaRef(o.snapshotSchema),
          ...Object.fromEntries(LIVE_EVENT_TYPES.map((t) => [t, schemaRef('LiveEventData')])),
          ...Object.fromEntries(liveOnly.map(([type, [schema]]) => [type, schemaRef(schema)])),
        },
      },
    },
  };
}
