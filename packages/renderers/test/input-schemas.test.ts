import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtInRenderers } from '../src/registry.js';

type Schema = Record<string, any>;

/** Every property schema in a JSON Schema (through $defs, unions, arrays and nested objects), with its path. */
function properties(root: Schema): { path: string; schema: Schema }[] {
  const found: { path: string; schema: Schema }[] = [];
  const visit = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const s = node as Schema;
    for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
      found.push({ path: `${path}.${name}`, schema: prop });
      visit(prop, `${path}.${name}`);
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) (s[key] ?? []).forEach((b: unknown, i: number) => visit(b, `${path}|${i}`));
    if (s.items) visit(s.items, `${path}[]`);
    for (const [name, def] of Object.entries((s.$defs ?? {}) as Record<string, Schema>)) visit(def, `$defs.${name}`);
  };
  visit(root, '');
  return found;
}

describe('renderer input schemas, as agents and forms see them', () => {
  const renderers = builtInRenderers();

  it.each(renderers.map((r) => [r.kind, r] as const))('%s: every field has a title (a form label) and a description', (_kind, renderer) => {
    const schema = z.toJSONSchema(renderer.inputSchema, { io: 'input', unrepresentable: 'any' }) as Schema;
    const props = properties(schema);
    expect(props.length).toBeGreaterThan(3);
    for (const { path, schema: prop } of props) {
      // A $ref carries its words in the definition it points to (checked there).
      if (prop.$ref) continue;
      expect(prop.title, `${path} title`).toEqual(expect.any(String));
      expect(String(prop.description ?? '').length, `${path} description`).toBeGreaterThan(5);
    }
  });

  it('video scenes refer to the card and chart definitions instead of untyped objects', () => {
    const video = renderers.find((r) => r.kind === 'video')!;
    const schema = z.toJSONSchema(video.inputSchema, { io: 'input', unrepresentable: 'any' }) as Schema;
    expect(Object.keys(schema.$defs)).toEqual(expect.arrayContaining(['ImageCardFields', 'ChartInputFields']));
    const text = JSON.stringify(schema);
    expect(text).toContain('"card":{"$ref":"#/$defs/ImageCardFields"}');
    expect(text).toContain('"chart":{"$ref":"#/$defs/ChartInputFields"}');
    // The card definition is the image kind's card fields: the title is there, required.
    expect(schema.$defs.ImageCardFields.required).toContain('title');
    expect(schema.$defs.ChartInputFields.properties.spec).toBeDefined();
  });

  it('every example is accepted by its schema', () => {
    for (const r of renderers) expect(r.inputSchema.safeParse(r.example).success, r.kind).toBe(true);
  });
});
