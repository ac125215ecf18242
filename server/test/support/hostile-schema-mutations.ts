/**
 * Bad bodies derived from an OpenAPI 3.1 document: starting from a valid body, every field the
 * schema describes gets values of each JSON type it does not allow, values just past its bounds,
 * NUL and lone surrogates; every required field is left out once; every closed object gets a
 * field it does not know. Each mutation changes one thing, so each must be refused on its own.
 */

type Schema = Record<string, any>;
type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';
type Path = (string | number)[];

export interface Mutation {
  label: string;
  body: unknown;
  /** Past a maximum (length, items, value): a cap, refused with `limit` and `actual`. */
  cap: boolean;
  /** NUL or a lone surrogate: refused by the body guard, whatever the field. */
  unstorable: boolean;
}

const SAMPLE_OF: Record<JsonType, unknown> = { null: null, boolean: true, number: 7, string: 'seven', array: [], object: {} };
const BAD_STRINGS: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', 'x\udfffy'],
];
/** Candidates for "does not match the pattern": the first one the pattern refuses (case-insensitively) is used. */
const PATTERN_BREAKERS = ['!', '../x', ' ', '#zzz', 'a/b', '\u0001', '-'.repeat(300)];

const typeOf = (v: unknown): JsonType =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : (typeof v as 'boolean' | 'number' | 'string');

export function mutationsOf(doc: Schema, schema: Schema, base: unknown): Mutation[] {
  const out: Mutation[] = [];
  const resolve = (s: Schema | undefined): Schema => {
    let cur = s ?? {};
    for (let i = 0; cur.$ref && i < 20; i++) cur = cur.$ref.slice(2).split('/').reduce((o: any, k: string) => o?.[k], doc) ?? {};
    return cur;
  };
  const typesOf = (s: Schema): JsonType[] | null => {
    if (s.const !== undefined) return [typeOf(s.const)];
    if (s.enum) return [...new Set<JsonType>(s.enum.map(typeOf))];
    const t = s.type ?? (s.properties ? 'object' : s.items ? 'array' : undefined);
    if (!t) return null;
    return (Array.isArray(t) ? t : [t]).map((x: string) => (x === 'integer' ? 'number' : x) as JsonType);
  };
  const variantsOf = (s: Schema): Schema[] | null => (s.oneOf ?? s.anyOf)?.map(resolve) ?? null;
  const matches = (s: Schema, v: unknown): boolean => {
    if (s.const !== undefined) return v === s.const;
    if (s.enum) return s.enum.includes(v);
    const types = typesOf(s);
    if (types && !types.includes(typeOf(v))) return false;
    if (typeOf(v) === 'object' && s.properties) {
      if ((s.required ?? []).some((k: string) => !(k in (v as object)))) return false;
      for (const [k, p] of Object.entries<Schema>(s.properties)) {
        const r = resolve(p);
        if (r.const !== undefined && (v as any)[k] !== r.const) return false;
      }
    }
    return true;
  };
  const push = (path: Path, what: string, apply: (parent: any, key: string | number) => void, flags: Partial<Pick<Mutation, 'cap' | 'unstorable'>> = {}) => {
    const body = structuredClone(base);
    if (path.length === 0) return;
    const parent = path.slice(0, -1).reduce((o: any, k) => o[k], body);
    apply(parent, path[path.length - 1]!);
    out.push({ label: `${path.join('.')}: ${what}`, body, cap: flags.cap ?? false, unstorable: flags.unstorable ?? false });
  };
  const set = (path: Path, what: string, value: unknown, flags?: Partial<Pick<Mutation, 'cap' | 'unstorable'>>) =>
    push(path, what, (parent, key) => (parent[key] = value), flags);

  function walk(raw: Schema, value: unknown, path: Path, allowed: JsonType[] | null) {
    const s = resolve(raw);
    const variants = variantsOf(s);
    if (variants) {
      const union = variants.every((x) => typesOf(x)) ? [...new Set(variants.flatMap((x) => typesOf(x)!))] : null;
      if (union) for (const t of Object.keys(SAMPLE_OF) as JsonType[]) if (!union.includes(t)) set(path, `a ${t}`, SAMPLE_OF[t]);
      const chosen = value === undefined ? undefined : variants.find((x) => matches(x, value));
      if (chosen) walk(chosen, value, path, union);
      return;
    }
    const types = typesOf(s);
    if (!types) return; // anything goes (z.unknown): nothing is wrong for it
    for (const t of Object.keys(SAMPLE_OF) as JsonType[]) {
      if (!types.includes(t) && !(allowed ?? []).includes(t)) set(path, `a ${t}`, SAMPLE_OF[t]);
    }
    if (types.includes('string')) {
      if (s.maxLength !== undefined) set(path, `${s.maxLength + 1} characters`, 'x'.repeat(s.maxLength + 1), { cap: true });
      if (s.minLength > 0) set(path, 'empty', '');
      if (s.enum) set(path, 'not one of its values', 'none-of-these');
      if (s.const !== undefined) set(path, 'another constant', `not-${s.const}`);
      if (s.format === 'uuid') set(path, 'not a uuid', 'not-a-uuid');
      if (s.format === 'uri') set(path, 'not a URL', 'not a url');
      if (s.pattern) {
        const re = new RegExp(s.pattern, 'i');
        const breaker = PATTERN_BREAKERS.find((c) => !re.test(c) && (s.maxLength === undefined || c.length <= s.maxLength));
        if (breaker !== undefined) set(path, `not matching ${s.pattern}`, breaker);
      }
      for (const [what, bad] of BAD_STRINGS) set(path, what, bad, { unstorable: true });
    }
    if (types.includes('number')) {
      if (s.type === 'integer') set(path, 'a fraction', 1.5);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum : undefined);
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum : undefined);
      if (max !== undefined) {
        set(path, `${max} + 1`, max + 1, { cap: true });
        set(path, '1e308', 1e308, { cap: true });
      }
      if (min !== undefined) {
        set(path, `${min} - 1`, min - 1);
        set(path, '-1e308', -1e308);
      }
    }
    if (types.includes('object') && typeOf(value) === 'object') {
      const v = value as Record<string, unknown>;
      for (const [k, p] of Object.entries<Schema>(s.properties ?? {})) walk(p, v[k], [...path, k], null);
      for (const k of s.required ?? []) if (k in v) push([...path, k], 'missing', (parent, key) => delete parent[key]);
      if (s.additionalProperties === false) {
        set([...path, 'unexpectedField'], 'a field it does not know', 1);
        for (const [what, bad] of BAD_STRINGS) set([...path, bad], `a key with ${what}`, 1, { unstorable: true });
      }
    }
    if (types.includes('array') && typeOf(value) === 'array') {
      const v = value as unknown[];
      if (s.maxItems !== undefined && v.length > 0) set(path, `${s.maxItems + 1} items`, Array.from({ length: s.maxItems + 1 }, () => v[0]), { cap: true });
      if (s.minItems > 0) set(path, 'no items', []);
      if (v.length > 0 && s.items) walk(s.items, v[0], [...path, 0], null);
    }
  }

  walk(schema, base, [], null);
  return out;
}
