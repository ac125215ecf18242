import { z } from 'zod';
import type { RendererRegistry } from '@kiln/renderers';
import {
  assetMetadataSchema,
  assetViewSchema,
  companyListSchema,
  companySnapshotSchema,
  companyStatsSchema,
  queuePositionEventSchema,
  companyViewSchema,
  createCompanyBodySchema,
  updateCompanyBodySchema,
  createJobBodySchema,
  createJobResponseSchema,
  createdCompanySchema,
  apiIndexSchema,
  finishedJobResponseSchema,
  assetLineageSchema,
  errorBodySchema,
  healthResponseSchema,
  jobErrorSchema,
  jobViewSchema,
  liveEventDataSchema,
  pageSchema,
  readinessResponseSchema,
  rendererListSchema,
  rendererViewSchema,
  webhookDeliveryListSchema,
  webhookDeliveryViewSchema,
  webhookSecretRotationSchema,
} from '@kiln/shared';
import type { JsonSchema, ParameterObject } from './openapi-types.js';

const COMPONENTS = '#/components/schemas/';

/** `test-slow` → `TestSlow`: component names must match `^[a-zA-Z0-9._-]+$`. */
export function pascalCase(kind: string): string {
  return kind
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** Component names of what a renderer kind contributes. */
export const rendererComponentNames = (kind: string) => ({
  input: `${pascalCase(kind)}Input`,
  jobBody: `Create${pascalCase(kind)}JobBody`,
});

/**
 * Converts every schema of a registry in one pass, so a registered schema used inside another
 * becomes a `$ref` to its component instead of a copy. zod puts what it must extract but nobody
 * registered (cycles) under a `__shared` pseudo-schema; those are hoisted into components of
 * their own, because `…/__shared#/$defs/x` does not resolve inside an OpenAPI document.
 */
function toComponents(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output', sharedPrefix: string): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: 'any', cycles: 'ref', uri: (id) => COMPONENTS + id }) as {
    schemas: Record<string, JsonSchema>;
  };
  const shared = (schemas.__shared?.$defs ?? {}) as Record<string, JsonSchema>;
  delete schemas.__shared;
  const sharedRef = `${COMPONENTS}__shared#/$defs/`;
  for (const [id, def] of Object.entries(shared)) schemas[sharedPrefix + id] = def;
  const rewrite = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(rewrite);
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.$ref === 'string' && obj.$ref.startsWith(sharedRef)) {
      obj.$ref = COMPONENTS + sharedPrefix + decodeURIComponent(obj.$ref.slice(sharedRef.length).replace(/~1/g, '/').replace(/~0/g, '~'));
    }
    Object.values(obj).forEach(rewrite);
  };
  for (const schema of Object.values(schemas)) {
    // The document declares the dialect once (`jsonSchemaDialect`); zod's `$id`s are fragments,
    // which 2020-12 does not allow in `$id`.
    delete schema.$schema;
    delete schema.$id;
    rewrite(schema);
  }
  return schemas;
}

/**
 * Response shapes by component name: the schemas the view types are inferred from (the OpenAPI
 * test parses real responses with them).
 */
export function responseSchemasByName(): Record<string, z.ZodType> {
  return {
    ErrorBody: errorBodySchema,
    AssetMetadata: assetMetadataSchema,
    AssetView: assetViewSchema,
    JobError: jobErrorSchema,
    JobView: jobViewSchema,
    JobPage: pageSchema(jobViewSchema),
    AssetPage: pageSchema(assetViewSchema),
    CreateJobResponse: createJobResponseSchema,
    CompanyView: companyViewSchema,
    CompanyList: companyListSchema,
    CreatedCompany: createdCompanySchema,
    FinishedJobResponse: finishedJobResponseSchema,
    AssetLineage: assetLineageSchema,
    WebhookSecretRotation: webhookSecretRotationSchema,
    WebhookDeliveryView: webhookDeliveryViewSchema,
    WebhookDeliveryList: webhookDeliveryListSchema,
    RendererView: rendererViewSchema,
    RendererList: rendererListSchema,
    ApiIndex: apiIndexSchema,
    HealthResponse: healthResponseSchema,
    ReadinessResponse: readinessResponseSchema,
    LiveEventData: liveEventDataSchema,
    CompanySnapshot: companySnapshotSchema,
    CompanyStats: companyStatsSchema,
    QueuePositionEvent: queuePositionEventSchema,
  };
}

function responseComponents(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(responseSchemasByName())) registry.add(schema, { id });
  const schemas = toComponents(registry, 'output', 'ResponseShared');
  // zod closes output objects (`additionalProperties: false`) because it strips unknown keys.
  // A response that gains a field is not a breaking change, so clients must not be told to reject one.
  const open = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(open);
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj.additionalProperties === false) delete obj.additionalProperties;
    Object.values(obj).forEach(open);
  };
  open(schemas);
  return schemas;
}

/**
 * Request bodies, as the server validates them. The create-job body is a union over the
 * registry's kinds of the body schema with `input` replaced by that renderer's input schema: the
 * same two checks the job service makes, one after the other, written as one schema.
 */
function requestComponents(renderers: RendererRegistry): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(createCompanyBodySchema, { id: 'CreateCompanyBody' });
  registry.add(updateCompanyBodySchema, { id: 'UpdateCompanyBody' });
  const variants = [...renderers.values()].map((r) => {
    const names = rendererComponentNames(r.kind);
    registry.add(r.inputSchema, { id: names.input });
    const variant = createJobBodySchema.extend({ kind: z.literal(r.kind), input: r.inputSchema });
    registry.add(variant, { id: names.jobBody });
    return variant;
  });
  if (variants.length > 0) {
    const union = z.discriminatedUnion('kind', variants as [(typeof variants)[number], ...typeof variants]);
    registry.add(union, { id: 'CreateJobBody' });
  }
  const schemas = toComponents(registry, 'input', 'RequestShared');
  const mapping: Record<string, string> = {};
  for (const r of renderers.values()) {
    const names = rendererComponentNames(r.kind);
    mapping[r.kind] = COMPONENTS + names.jobBody;
    Object.assign(schemas[names.input]!, { description: r.description, examples: [r.example] });
    Object.assign(schemas[names.jobBody]!, {
      description: `A \`${r.kind}\` job: ${r.description}`,
      examples: [{ kind: r.kind, input: r.example }],
    });
  }
  if (schemas.CreateJobBody) {
    schemas.CreateJobBody.description = 'What to render. `kind` picks the renderer; `input` is checked against that renderer\'s schema before the job is queued.';
    schemas.CreateJobBody.discriminator = { propertyName: 'kind', mapping };
  }
  return schemas;
}

/** Every component schema; request and response names don't overlap (checked). */
export function componentSchemas(renderers: RendererRegistry): Record<string, JsonSchema> {
  const requests = requestComponents(renderers);
  const responses = responseComponents();
  const clash = Object.keys(requests).filter((name) => name in responses);
  if (clash.length > 0) throw new Error(`OpenAPI component names used twice: ${clash.join(', ')}`);
  return { ...responses, ...requests };
}

/** A zod object of query fields (what the route parses `request.query` with) → query parameters. */
export function queryParameters(schema: z.ZodObject, descriptions: Record<string, string> = {}): ParameterObject[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query' as const,
    required: json.required?.includes(name) ?? false,
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: property,
  }));
}

/** A single zod schema → a standalone JSON Schema for a parameter or header. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}
