import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createJobBodySchema, type RendererView } from '@kiln/shared';
import { MAX_INLINE_IMAGE_BYTES } from './asset-content.js';

/**
 * Tool names for the kinds agents know by a verb. Any other kind — a test kind, an AI kind a
 * provider adds, a kind from `KILN_RENDERER_MODULES` — becomes `render_<kind>` with every
 * character outside [A-Za-z0-9_] turned into `_` (`test-slow` → `render_test_slow`).
 */
export const KIND_TOOL_NAMES: Readonly<Record<string, string>> = {
  image: 'generate_image',
  chart: 'render_chart',
  document: 'render_document',
  speech: 'synthesize_speech',
  video: 'render_video',
  'ai-image': 'generate_ai_image',
  'ai-speech': 'synthesize_ai_speech',
  'ai-video': 'generate_ai_video',
};

export function toolNameForKind(kind: string): string {
  return KIND_TOOL_NAMES[kind] ?? `render_${kind.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** What a kind tool call may carry besides `input` (the renderer's own input). */
function kindToolOptions(): Record<string, unknown> {
  // outputName and sourceTaskId as the job body defines them, so the caps can't drift.
  const body = z.toJSONSchema(createJobBodySchema.pick({ outputName: true, sourceTaskId: true }), { io: 'input' }) as {
    properties: Record<string, Record<string, unknown>>;
  };
  return {
    outputName: {
      ...body.properties.outputName,
      description: 'File name for the output (its extension is always the real one: "q3-report" gives "q3-report.pdf").',
    },
    sourceTaskId: {
      ...body.properties.sourceTaskId,
      description: 'Your task or conversation id. Every job and asset made for it can be listed later with list_jobs/list_assets { sourceTaskId }.',
    },
    companyId: COMPANY_ID_PROPERTY,
    waitSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400,
      description:
        'Stop waiting after this many seconds and return the job as it is then (it keeps running: follow it with get_job). Default: wait until it ends.',
    },
  };
}

export const COMPANY_ID_PROPERTY = {
  type: 'string',
  format: 'uuid',
  description: "The company (tenant) to work in. Leave it out to use this connection's company.",
} as const;

/** Long examples would drown the description an agent reads; past this they are left out. */
const MAX_EXAMPLE_CHARS = 1200;

/**
 * One tool per renderer kind. Its `input` property is the kind's JSON Schema exactly as
 * GET /api/renderers publishes it, so nothing is copied by hand and a kind added to the server
 * appears here as it is. The schema is nested under `input` rather than spread at the top:
 * kinds such as `image` are a union (`oneOf`), and MCP wants an object at the top.
 */
export function kindTool(renderer: RendererView): Tool {
  const { input, defs } = nestedSchema(renderer.inputSchema);
  const example = JSON.stringify(renderer.example);
  const lines = [
    renderer.description,
    '',
    `Creates a Kiln "${renderer.kind}" job and waits for it to end, sending progress notifications when the call carries a progressToken. ` +
      'The result names the job (jobId, status, warnings) and links each output as a resource (kiln://assets/<id>, readable with resources/read). ' +
      `Image outputs up to ${MAX_INLINE_IMAGE_BYTES / 1024 / 1024} MiB also come back inline. ` +
      'A failed job is an error result with its code and message; invalid input is an error result whose details name the fields. ' +
      'Canceling the call cancels the job.',
  ];
  if (example.length <= MAX_EXAMPLE_CHARS) lines.push('', `Example input: ${example}`);
  return {
    name: toolNameForKind(renderer.kind),
    title: `Kiln: ${renderer.kind}`,
    description: lines.join('\n'),
    inputSchema: {
      type: 'object',
      properties: { input: { ...input, description: `The ${renderer.kind} renderer's input.` }, ...kindToolOptions() },
      required: ['input'],
      additionalProperties: false,
      ...(defs ? { $defs: defs } : {}),
    } as Tool['inputSchema'],
    annotations: { title: `Kiln: ${renderer.kind}`, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  };
}

/**
 * The kind's schema as a property of the tool's schema: its `$schema` goes (it is not a root
 * any more), and its `$defs` move to the tool's root so `#/$defs/…` references still resolve.
 * A reference to the kind's own root (`#`) is pointed at `#/properties/input`.
 */
function nestedSchema(schema: unknown): { input: Record<string, unknown>; defs: Record<string, unknown> | undefined } {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { input: {}, defs: undefined };
  const { $schema: _dialect, $defs, definitions, ...rest } = schema as Record<string, unknown>;
  const defs = ($defs ?? definitions) as Record<string, unknown> | undefined;
  const input = repointRootRefs(rest, definitions ? '#/definitions/' : null) as Record<string, unknown>;
  return { input, defs: defs ? (repointRootRefs(defs, definitions ? '#/definitions/' : null) as Record<string, unknown>) : undefined };
}

function repointRootRefs(node: unknown, legacyDefs: string | null): unknown {
  if (Array.isArray(node)) return node.map((n) => repointRootRefs(n, legacyDefs));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      if (v === '#') out[k] = '#/properties/input';
      else if (legacyDefs && v.startsWith(legacyDefs)) out[k] = `#/$defs/${v.slice(legacyDefs.length)}`;
      else out[k] = v;
    } else out[k] = repointRootRefs(v, legacyDefs);
  }
  return out;
}
