/** The part of JSON Schema (draft 2020-12, as zod's toJSONSchema writes it) the form understands. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  description?: string;
  title?: string;
  /** A reference into the root schema (`#/$defs/ImageCardFields`); see `deref`. */
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
}

export type Path = (string | number)[];
export const pathKey = (path: Path) => path.join('.');

/**
 * The schema a `$ref` points at, with the referring schema's own keywords (a `title`, a
 * `description`, a `default`) laid over it, as JSON Schema 2020-12 reads siblings of `$ref`.
 * Only references inside the document (`#/$defs/…`, `#/definitions/…`, any `#/` pointer) are
 * followed; anything else stays unresolved and the form shows that part as JSON.
 * Resolved lazily, one level as the form descends, so a recursive schema is no problem.
 */
export function deref(s: JsonSchema, root: JsonSchema): JsonSchema {
  let current = s;
  for (let hops = 0; current.$ref !== undefined && hops < 32; hops++) {
    const { $ref, ...siblings } = current;
    const target = resolvePointer(root, $ref);
    if (!target) return siblings;
    current = { ...target, ...siblings };
  }
  return current;
}

function resolvePointer(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null ? (node as JsonSchema) : undefined;
}

export const typeOf = (s: JsonSchema): string | undefined => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);
export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The variants of a `oneOf`/`anyOf` when they are objects told apart by one property whose value
 * is a `const` in each (zod's discriminated unions: `mode`, `type`).
 */
export function discriminatorOf(variants: JsonSchema[]): string | null {
  const first = variants[0]?.properties;
  if (!first) return null;
  for (const key of Object.keys(first)) {
    const consts = variants.map((v) => v.properties?.[key]?.const);
    if (consts.every((c) => c !== undefined) && new Set(consts).size === variants.length) return key;
  }
  return null;
}

/** Which variant a value is: by its discriminator when there is one, else the first that fits roughly. */
export function variantIndex(variants: JsonSchema[], value: unknown, discriminator: string | null): number {
  if (discriminator) {
    const tag = isPlainObject(value) ? value[discriminator] : undefined;
    const i = variants.findIndex((v) => v.properties![discriminator]!.const === tag);
    if (i >= 0) return i;
    // A missing tag takes the variant whose tag has it as the default (image: mode "svg").
    const d = variants.findIndex((v) => v.properties![discriminator]!.default !== undefined);
    return d >= 0 ? d : 0;
  }
  const i = variants.findIndex((v) => roughlyFits(v, value));
  return i >= 0 ? i : 0;
}

function roughlyFits(s: JsonSchema, v: unknown): boolean {
  if (s.const !== undefined) return s.const === v;
  if (s.enum) return s.enum.includes(v);
  switch (typeOf(s)) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isPlainObject(v);
    default:
      return false;
  }
}

/** A starting value for a newly added item or a freshly chosen variant: defaults, else the least that validates. */
export function initialValue(schema: JsonSchema, root: JsonSchema): unknown {
  const s = deref(schema, root);
  if (s.default !== undefined) return structuredClone(s.default);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const variants = s.oneOf ?? s.anyOf;
  if (variants?.length) return initialValue(variants[0]!, root);
  switch (typeOf(s)) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => initialValue(s.items ?? {}, root));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? []) out[key] = initialValue(s.properties?.[key] ?? {}, root);
      return out;
    }
    default:
      return undefined;
  }
}

/** A field's label: its schema's `title`; the key made readable only when a schema has none. */
export const labelFor = (key: string, s: JsonSchema) => s.title ?? humanize(key);

/** `scenes` → "Scenes", `durationMs` → "Duration ms", `backgroundAssetId` → "Background asset id". */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Fields that hold long text get a textarea. */
export function isLongText(key: string, s: JsonSchema): boolean {
  if (s.maxLength !== undefined || s.pattern !== undefined) return (s.maxLength ?? 0) > 1000;
  return /^(markdown|svg|text|body|html)$/i.test(key);
}

/**
 * The help text under a field: the schema's `description` (which says the bounds and the default
 * in words), else a short hint made from the bounds and the default.
 */
export function hintFor(s: JsonSchema): string {
  if (s.description) return s.description;
  const parts: string[] = [];
  const t = typeOf(s);
  if ((t === 'number' || t === 'integer') && (s.minimum !== undefined || s.maximum !== undefined)) {
    parts.push(`${s.minimum ?? '−∞'} – ${s.maximum ?? '∞'}${t === 'integer' ? ', whole number' : ''}`);
  }
  if (t === 'string' && s.maxLength !== undefined && s.maxLength <= 1000) parts.push(`up to ${s.maxLength} characters`);
  if (s.format === 'uuid') parts.push('an asset id');
  if (s.default !== undefined && !isPlainObject(s.default)) parts.push(`default ${typeof s.default === 'string' ? s.default : JSON.stringify(s.default)}`);
  return parts.join(' · ');
}
