import { createContext, useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import {
  deref,
  discriminatorOf,
  hintFor,
  initialValue,
  labelFor,
  isLongText,
  isPlainObject,
  pathKey,
  typeOf,
  variantIndex,
  type JsonSchema,
  type Path,
} from './json-schema.js';

/**
 * A form generated from a renderer's JSON Schema. Labels are the fields' `title`s and the help
 * under them their `description`s. Strings, numbers, enums and booleans get real inputs; objects
 * become groups, arrays of objects repeatable groups, discriminated unions a select that switches
 * fields; `$ref`s into `$defs` are followed (a video scene's card and chart are forms like the
 * image and chart kinds' own). Anything it cannot lay out (free-form records such as a Vega-Lite
 * spec, unions it cannot tell apart) falls back to a JSON editor for that subtree. Server
 * validation errors are shown next to the field whose path they name.
 */
export interface FormErrors {
  /** Messages by path key (`input.scenes.0.durationMs`). */
  byPath: Map<string, string[]>;
}

interface FormContext {
  /** The whole schema, which `$ref`s point into. */
  root: JsonSchema;
  errors: Map<string, string[]>;
  /** A field was edited: its own errors no longer apply. */
  touch(path: Path): void;
  /** A JSON subtree editor holds text that does not parse (the form must not be sent). */
  setInvalid(path: Path, invalid: boolean): void;
}

const Ctx = createContext<FormContext>({ root: {}, errors: new Map(), touch: () => {}, setInvalid: () => {} });

interface FieldProps {
  schema: JsonSchema;
  value: unknown;
  onChange(value: unknown): void;
  path: Path;
  label: string;
  required: boolean;
}

export function SchemaForm(props: {
  schema: JsonSchema;
  value: unknown;
  onChange(value: unknown): void;
  path: Path;
  errors: Map<string, string[]>;
  onTouch(path: Path): void;
  onInvalid(path: Path, invalid: boolean): void;
}) {
  const ctx = useRef<FormContext>(null!);
  ctx.current = { root: props.schema, errors: props.errors, touch: props.onTouch, setInvalid: props.onInvalid };
  return (
    <Ctx.Provider value={ctx.current}>
      <div className="schema-form">
        <SchemaField schema={props.schema} value={props.value} onChange={props.onChange} path={props.path} label="" required />
      </div>
    </Ctx.Provider>
  );
}

function SchemaField(props: FieldProps) {
  const { root } = useContext(Ctx);
  const schema = deref(props.schema, root);
  const p = { ...props, schema };
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants?.length) return <UnionField {...p} variants={variants.map((v) => deref(v, root))} />;
  if (schema.const !== undefined) return <ConstField {...p} />;
  if (schema.enum) return <EnumField {...p} />;
  switch (typeOf(schema)) {
    case 'string':
      return <StringField {...p} />;
    case 'number':
    case 'integer':
      return <NumberField {...p} />;
    case 'boolean':
      return <BooleanField {...p} />;
    case 'object':
      return schema.properties ? <ObjectField {...p} /> : <JsonField {...p} />;
    case 'array':
      return schema.items ? <ArrayField {...p} /> : <JsonField {...p} />;
    default:
      return <JsonField {...p} />;
  }
}

/** Label, control, help text and the server's messages for one path. */
function Field({ path, label, required, hint, children, controlId }: { path: Path; label: string; required: boolean; hint?: string; children: ReactNode; controlId?: string }) {
  const { errors } = useContext(Ctx);
  const messages = errors.get(pathKey(path)) ?? [];
  return (
    <div className={`field${messages.length ? ' has-error' : ''}`} data-path={pathKey(path)}>
      {label && (
        <label htmlFor={controlId}>
          {label}
          {required && <span className="required" title="required">*</span>}
        </label>
      )}
      {children}
      {hint && (
        <div className="hint" id={controlId ? hintId(controlId) : undefined}>
          {hint}
        </div>
      )}
      {messages.map((m, i) => (
        <div key={i} className="field-error" role="alert">
          {m}
        </div>
      ))}
    </div>
  );
}

/** The id of a control's help text, for its `aria-describedby`. */
const hintId = (controlId: string) => `${controlId}-hint`;
const describedBy = (controlId: string, hint: string) => (hint ? hintId(controlId) : undefined);

/** Errors on a group itself (a missing property, an unknown key, a cross-field rule). */
function GroupErrors({ path }: { path: Path }) {
  const { errors } = useContext(Ctx);
  const messages = errors.get(pathKey(path)) ?? [];
  return (
    <>
      {messages.map((m, i) => (
        <div key={i} className="field-error" role="alert" data-path={pathKey(path)}>
          {m}
        </div>
      ))}
    </>
  );
}

function useLeafChange(p: FieldProps) {
  const { touch } = useContext(Ctx);
  return (v: unknown) => {
    touch(p.path);
    p.onChange(v);
  };
}

function ConstField(p: FieldProps) {
  const id = useId();
  return (
    <Field path={p.path} label={p.label} required={p.required} hint={hintFor(p.schema)} controlId={id}>
      <input id={id} value={String(p.schema.const)} readOnly disabled aria-describedby={describedBy(id, hintFor(p.schema))} />
    </Field>
  );
}

function EnumField(p: FieldProps) {
  const id = useId();
  const change = useLeafChange(p);
  const options = p.schema.enum!;
  const index = options.findIndex((o) => o === p.value);
  const fallback = p.schema.default !== undefined ? ` (default: ${String(p.schema.default)})` : '';
  const hint = hintFor(p.schema);
  return (
    <Field path={p.path} label={p.label} required={p.required} hint={hint} controlId={id}>
      <select id={id} name={pathKey(p.path)} aria-describedby={describedBy(id, hint)} value={index >= 0 ? String(index) : ''} onChange={(e) => change(e.target.value === '' ? undefined : options[Number(e.target.value)])}>
        {(!p.required || index < 0) && <option value="">{p.required ? 'choose…' : `—${fallback}`}</option>}
        {options.map((o, i) => (
          <option key={i} value={String(i)}>
            {String(o)}
          </option>
        ))}
      </select>
    </Field>
  );
}

const COLOR = /^#[0-9a-f]{6}$/i;

function StringField(p: FieldProps) {
  const id = useId();
  const change = useLeafChange(p);
  const key = String(p.path[p.path.length - 1] ?? '');
  const value = typeof p.value === 'string' ? p.value : '';
  // An optional string left empty is left out, so the server applies its default.
  const set = (text: string) => change(text === '' && !p.required ? undefined : text);
  const placeholder = typeof p.schema.default === 'string' ? p.schema.default : p.schema.format === 'uuid' ? '00000000-0000-…' : '';
  const isColor = /#/.test(p.schema.pattern ?? '') && /0-9a-f/i.test(p.schema.pattern ?? '');
  const hint = hintFor(p.schema);
  const text = (
    <input id={id} name={pathKey(p.path)} type="text" value={value} placeholder={placeholder} aria-describedby={describedBy(id, hint)} onChange={(e) => set(e.target.value)} />
  );
  return (
    <Field path={p.path} label={p.label} required={p.required} hint={hint} controlId={id}>
      {isLongText(key, p.schema) ? (
        <textarea id={id} name={pathKey(p.path)} aria-describedby={describedBy(id, hint)} value={value} placeholder={placeholder} rows={Math.min(14, Math.max(3, value.split('\n').length + 1))} onChange={(e) => set(e.target.value)} spellCheck={key !== 'svg'} />
      ) : isColor ? (
        <div className="color-input">
          <input
            type="color"
            aria-label={`${p.label} colour`}
            value={COLOR.test(value) ? value : COLOR.test(placeholder) ? placeholder : '#000000'}
            onChange={(e) => set(e.target.value)}
          />
          {text}
        </div>
      ) : (
        text
      )}
    </Field>
  );
}

function NumberField(p: FieldProps) {
  const id = useId();
  const change = useLeafChange(p);
  const numeric = typeof p.value === 'number' ? String(p.value) : '';
  // The text as typed ("1.", "-"), kept while it does not parse, so typing is never fought.
  const [text, setText] = useState(numeric);
  useEffect(() => {
    if (Number(text) !== Number(numeric) || (text === '') !== (numeric === '')) setText(numeric);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [numeric]);
  const integer = typeOf(p.schema) === 'integer';
  const hint = hintFor(p.schema);
  return (
    <Field path={p.path} label={p.label} required={p.required} hint={hint} controlId={id}>
      <input
        id={id}
        name={pathKey(p.path)}
        aria-describedby={describedBy(id, hint)}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        step={integer ? 1 : 'any'}
        min={p.schema.minimum}
        max={p.schema.maximum}
        value={text}
        placeholder={typeof p.schema.default === 'number' ? String(p.schema.default) : ''}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') change(undefined);
          else if (Number.isFinite(Number(t))) change(Number(t));
        }}
      />
    </Field>
  );
}

function BooleanField(p: FieldProps) {
  const id = useId();
  const change = useLeafChange(p);
  const checked = typeof p.value === 'boolean' ? p.value : p.schema.default === true;
  const hint = hintFor(p.schema);
  return (
    <div className="field field-checkbox" data-path={pathKey(p.path)}>
      <label htmlFor={id}>
        <input id={id} name={pathKey(p.path)} type="checkbox" checked={checked} aria-describedby={describedBy(id, hint)} onChange={(e) => change(e.target.checked)} />
        {p.label}
      </label>
      {hint && (
        <div className="hint" id={hintId(id)}>
          {hint}
        </div>
      )}
      <ErrorsOnly path={p.path} />
    </div>
  );
}

function ErrorsOnly({ path }: { path: Path }) {
  return <GroupErrors path={path} />;
}

function ObjectField(p: FieldProps & { omit?: string; inline?: boolean; leading?: ReactNode }) {
  const { root } = useContext(Ctx);
  const obj = isPlainObject(p.value) ? p.value : {};
  const required = new Set(p.schema.required ?? []);
  const entries = Object.entries(p.schema.properties ?? {}).filter(([k]) => k !== p.omit);
  const set = (key: string, v: unknown) => {
    const next = { ...obj };
    if (v === undefined) delete next[key];
    else next[key] = v;
    p.onChange(next);
  };
  const fields = [
    p.leading,
    ...entries.map(([key, s]) => (
      <SchemaField key={key} schema={s} value={obj[key]} onChange={(v) => set(key, v)} path={[...p.path, key]} label={labelFor(key, deref(s, root))} required={required.has(key)} />
    )),
  ];
  if (p.inline || p.label === '') {
    return (
      <>
        <GroupErrors path={p.path} />
        <div className="field-grid">{fields}</div>
      </>
    );
  }
  return (
    <fieldset className="group" data-path={pathKey(p.path)}>
      <legend>{p.label}</legend>
      <GroupHint schema={p.schema} />
      <GroupErrors path={p.path} />
      <div className="field-grid">{fields}</div>
    </fieldset>
  );
}

/** A group's description, under its legend. */
function GroupHint({ schema }: { schema: JsonSchema }) {
  return schema.description ? <p className="hint group-hint">{schema.description}</p> : null;
}

/**
 * `oneOf`/`anyOf`: objects with a discriminator (`mode`, `type`) get a select of the tags; a
 * list of named presets or a custom object (`resolution`, `size`) gets one select with "custom…".
 */
function UnionField(p: FieldProps & { variants: JsonSchema[] }) {
  const id = useId();
  const { touch, root } = useContext(Ctx);
  const { variants } = p;
  const disc = discriminatorOf(variants);
  const present = p.value !== undefined;

  if (disc) {
    const index = variantIndex(variants, p.value, disc);
    const choose = (v: string) => {
      touch(p.path);
      if (v === '') return p.onChange(undefined);
      const variant = variants[Number(v)]!;
      const start = initialValue({ ...variant, default: undefined }, root);
      p.onChange({ ...(isPlainObject(start) ? start : {}), [disc]: variant.properties![disc]!.const });
    };
    // The tag's label is its own title ("Type", "Mode"); its help says what the chosen variant is.
    const tagSchema = deref(variants[index]!.properties![disc]!, root);
    const tagHint = present ? (tagSchema.description ?? '') : '';
    const tagSelect = (
      <Field key="$tag" path={[...p.path, disc]} label={labelFor(disc, tagSchema)} required={p.required} hint={tagHint} controlId={id}>
        <select id={id} name={pathKey([...p.path, disc])} value={present ? String(index) : ''} aria-describedby={describedBy(id, tagHint)} onChange={(e) => choose(e.target.value)}>
          {!p.required && <option value="">— none —</option>}
          {variants.map((v, i) => (
            <option key={i} value={String(i)} data-const={String(v.properties![disc]!.const)}>
              {v.title ?? String(v.properties![disc]!.const)}
            </option>
          ))}
        </select>
      </Field>
    );
    const body = present ? <ObjectField {...p} schema={variants[index]!} omit={disc} inline leading={tagSelect} /> : <div className="field-grid">{tagSelect}</div>;
    if (p.label === '') return body;
    return (
      <fieldset className="group" data-path={pathKey(p.path)}>
        <legend>{p.label}</legend>
        <GroupHint schema={p.schema} />
        <GroupErrors path={p.path} />
        {body}
      </fieldset>
    );
  }

  const presets = variants.find((v) => v.enum && typeOf(v) === 'string');
  const custom = variants.filter((v) => v !== presets && typeOf(v) === 'object' && v.properties);
  if (presets && custom.length === 1 && variants.length === 2) {
    const isCustom = isPlainObject(p.value);
    const selected = isCustom ? 'custom' : typeof p.value === 'string' ? p.value : '';
    const choose = (v: string) => {
      touch(p.path);
      if (v === '') p.onChange(undefined);
      else if (v === 'custom') p.onChange(initialValue(custom[0]!, root));
      else p.onChange(v);
    };
    const defaultLabel = typeof p.schema.default === 'string' ? ` (default: ${p.schema.default})` : '';
    const hint = hintFor(p.schema);
    return (
      <div className="union-presets" data-path={pathKey(p.path)}>
        <Field path={p.path} label={p.label} required={p.required} hint={hint} controlId={id}>
          <select id={id} name={pathKey(p.path)} value={selected} aria-describedby={describedBy(id, hint)} onChange={(e) => choose(e.target.value)}>
            {(!p.required || selected === '') && <option value="">{`—${defaultLabel}`}</option>}
            {presets.enum!.map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
            <option value="custom">{custom[0]!.title ? `${custom[0]!.title.toLowerCase()}…` : 'custom…'}</option>
          </select>
        </Field>
        {isCustom && <ObjectField {...p} schema={custom[0]!} inline />}
      </div>
    );
  }
  return <JsonField {...p} />;
}

const singular = (label: string) => (label.endsWith('s') ? label.slice(0, -1) : label);

function ArrayField(p: FieldProps) {
  const { touch, root } = useContext(Ctx);
  const items = Array.isArray(p.value) ? p.value : [];
  const itemSchema = deref(p.schema.items!, root);
  const itemLabel = itemSchema.title ?? singular(p.label);
  const max = p.schema.maxItems ?? Infinity;
  const min = p.schema.minItems ?? 0;
  const update = (next: unknown[]) => {
    touch(p.path);
    p.onChange(next);
  };
  const move = (i: number, by: number) => {
    const next = [...items];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item);
    update(next);
  };
  return (
    <fieldset className="group array" data-path={pathKey(p.path)}>
      <legend>
        {p.label}
        {p.required && <span className="required">*</span>}
      </legend>
      <GroupHint schema={p.schema} />
      <GroupErrors path={p.path} />
      {items.map((item, i) => (
        <div className="array-item" key={i}>
          <div className="array-item-head">
            <span className="muted">
              {itemLabel} {i + 1}
            </span>
            <span className="array-item-actions">
              <button type="button" className="small" disabled={i === 0} onClick={() => move(i, -1)} aria-label="Move up">
                ↑
              </button>
              <button type="button" className="small" disabled={i === items.length - 1} onClick={() => move(i, 1)} aria-label="Move down">
                ↓
              </button>
              <button type="button" className="small" disabled={items.length <= min} onClick={() => update(items.filter((_, j) => j !== i))}>
                Remove
              </button>
            </span>
          </div>
          <SchemaField
            schema={itemSchema}
            value={item}
            onChange={(v) => p.onChange(items.map((x, j) => (j === i ? v : x)))}
            path={[...p.path, i]}
            label=""
            required
          />
        </div>
      ))}
      <button type="button" className="small" disabled={items.length >= max} onClick={() => update([...items, initialValue(itemSchema, root)])}>
        Add {itemLabel.toLowerCase()}
      </button>
    </fieldset>
  );
}

/** The fallback: the subtree as JSON text, with every server message inside it listed below. */
function JsonField(p: FieldProps) {
  const id = useId();
  const { errors, touch, setInvalid } = useContext(Ctx);
  const serialized = p.value === undefined ? '' : JSON.stringify(p.value, null, 2);
  const [text, setText] = useState(serialized);
  const [parseError, setParseError] = useState<string | null>(null);
  const lastEmitted = useRef(serialized);
  useEffect(() => {
    // Changed from outside (another example, a variant switch): show the new value.
    if (serialized !== lastEmitted.current) {
      lastEmitted.current = serialized;
      setText(serialized);
      setParseError(null);
      setInvalid(p.path, false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [serialized]);
  useEffect(() => () => setInvalid(p.path, false), []); // eslint-disable-line react-hooks/exhaustive-deps

  const key = pathKey(p.path);
  const nested = [...errors.entries()].filter(([k]) => k.startsWith(`${key}.`));
  const onText = (t: string) => {
    setText(t);
    touch(p.path);
    if (t.trim() === '' && !p.required) {
      setParseError(null);
      setInvalid(p.path, false);
      lastEmitted.current = '';
      return p.onChange(undefined);
    }
    try {
      const parsed: unknown = JSON.parse(t);
      setParseError(null);
      setInvalid(p.path, false);
      lastEmitted.current = JSON.stringify(parsed, null, 2);
      p.onChange(parsed);
    } catch (err) {
      setParseError(err instanceof Error ? err.message : 'Not valid JSON.');
      setInvalid(p.path, true);
    }
  };
  const hint = hintFor(p.schema);
  return (
    <Field path={p.path} label={p.label ? `${p.label} (JSON)` : 'JSON'} required={p.required} hint={hint} controlId={id}>
      <textarea
        id={id}
        name={key}
        aria-describedby={describedBy(id, hint)}
        className="json-editor"
        spellCheck={false}
        rows={Math.min(18, Math.max(4, text.split('\n').length + 1))}
        value={text}
        onChange={(e) => onText(e.target.value)}
      />
      {parseError && <div className="field-error">Invalid JSON: {parseError}</div>}
      {nested.map(([k, ms]) =>
        ms.map((m, i) => (
          <div key={`${k}-${i}`} className="field-error" role="alert">
            <code>{k.slice(key.length + 1)}</code>: {m}
          </div>
        )),
      )}
    </Field>
  );
}
