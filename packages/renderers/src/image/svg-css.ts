/**
 * Just enough CSS to know which cost-relevant properties (`filter`, `opacity`, `mask`, markers …)
 * a `<style>` sheet gives to which elements, as resvg (simplecss) applies them. Where this reader
 * is unsure (a pseudo-class, a sibling combinator, syntax it does not know), it assumes the rule
 * matches: for a cost estimate, applying a declaration too widely is safe and missing one is not.
 */

export interface CssElement {
  name: string;
  attrs: Record<string, string>;
  parent: CssElement | null;
}

interface Compound {
  tag?: string;
  id?: string;
  classes: string[];
  attrs: { name: string; op: string; value: string }[];
}

/** Compounds from right to left; `child` says the next one (to the left) must be the parent. */
type Selector = { compound: Compound; child: boolean }[];

export interface CssRule {
  /** null: a selector this reader does not understand, taken to match every element. */
  selector: Selector | null;
  declarations: [string, string][];
}

export interface StyleSheet {
  rules: CssRule[];
  /** Selectors resvg tries against every element (each comma-separated part counts). */
  selectorCount: number;
  /** Every `url(...)` and `@import` the text contains, for the external-reference check. */
  references: string[];
}

const URL = /url\(\s*(["']?)(.*?)\1\s*\)/gis;

/** Splits `a: b; c: d` (a `style` attribute or a rule's body) into name/value pairs. */
export function parseDeclarations(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of splitOutside(text, ';')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const name = part.slice(0, colon).trim().toLowerCase();
    const value = part
      .slice(colon + 1)
      .replace(/!\s*important\s*$/i, '')
      .trim();
    if (name && value) out.push([name, value]);
  }
  return out;
}

/** Splits on `separator` where it is not inside parentheses or quotes. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Parses a style sheet. At-rule blocks (`@media …{…}`) are read as if their rules applied
 * unconditionally; `@import` is recorded as a reference (it is refused as external).
 */
export function parseStyleSheet(text: string, keep: (property: string) => boolean): StyleSheet {
  const source = text.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ');
  const sheet: StyleSheet = { rules: [], selectorCount: 0, references: [] };
  for (const m of source.matchAll(URL)) sheet.references.push(`url(${m[2]})`);
  if (/@import/i.test(source)) sheet.references.push('@import');
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{', at);
    if (open < 0) break;
    let prelude = source.slice(at, open).trim();
    // A statement at-rule (`@charset "x";`) ends before the block that follows it.
    const lastSemicolon = prelude.lastIndexOf(';');
    if (lastSemicolon >= 0) prelude = prelude.slice(lastSemicolon + 1).trim();
    if (prelude.startsWith('@')) {
      at = open + 1; // read the block's rules as top-level ones
      continue;
    }
    const close = source.indexOf('}', open);
    const body = source.slice(open + 1, close < 0 ? source.length : close);
    at = close < 0 ? source.length : close + 1;
    if (!prelude) continue;
    const selectors = splitOutside(prelude, ',').map((s) => s.trim()).filter(Boolean);
    sheet.selectorCount += selectors.length;
    const declarations = parseDeclarations(body).filter(([name]) => keep(name));
    if (declarations.length === 0) continue;
    for (const s of selectors) sheet.rules.push({ selector: parseSelector(s), declarations });
  }
  // Stray closing braces of at-rule blocks are skipped by the search for the next '{'.
  return sheet;
}

const COMPOUND_PART = /^(?:(\*|[a-zA-Z][\w-]*)|#([\w-]+)|\.([\w-]+)|\[\s*([\w:-]+)\s*(?:([~|^$*]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]*))\s*)?\]|(::?[\w-]+(?:\([^)]*\))?))/;

function parseSelector(text: string): Selector | null {
  // Sibling combinators (`+`, `~`) are not checked: keep only what follows the last one.
  const lastSibling = Math.max(text.lastIndexOf('+'), text.lastIndexOf('~'));
  let rest = (lastSibling >= 0 && !/[[\]]/.test(text.slice(lastSibling)) ? text.slice(lastSibling + 1) : text).trim();
  const compounds: { compound: Compound; combinator: string }[] = [];
  let combinator = ' ';
  while (rest.length > 0) {
    const compound: Compound = { classes: [], attrs: [] };
    let any = false;
    for (;;) {
      const m = COMPOUND_PART.exec(rest);
      if (!m) break;
      any = true;
      if (m[1] && m[1] !== '*') compound.tag = m[1];
      else if (m[2]) compound.id = m[2];
      else if (m[3]) compound.classes.push(m[3]);
      else if (m[4]) compound.attrs.push({ name: m[4], op: m[5] ?? '', value: m[6] ?? m[7] ?? m[8] ?? '' });
      // Pseudo-classes and pseudo-elements (m[9]) are ignored: the compound may match.
      rest = rest.slice(m[0].length);
    }
    if (!any) return null;
    compounds.push({ compound, combinator });
    const sep = /^\s*(>)?\s*/.exec(rest)!;
    if (rest.length > 0 && sep[0].length === 0) return null;
    combinator = sep[1] ? '>' : ' ';
    rest = rest.slice(sep[0].length);
  }
  if (compounds.length === 0) return null;
  // Right to left; each entry says how it relates to the compound on its left.
  const selector: Selector = [];
  for (let i = compounds.length - 1; i >= 0; i--) {
    selector.push({ compound: compounds[i]!.compound, child: i > 0 && compounds[i]!.combinator === '>' });
  }
  return selector;
}

function matchesCompound(c: Compound, el: CssElement): boolean {
  if (c.tag && c.tag !== el.name) return false;
  if (c.id && el.attrs.id !== c.id) return false;
  if (c.classes.length > 0) {
    const classes = (el.attrs.class ?? '').split(/\s+/);
    if (!c.classes.every((cls) => classes.includes(cls))) return false;
  }
  for (const a of c.attrs) {
    const v = el.attrs[a.name];
    if (v === undefined) return false;
    const ok =
      a.op === '' ||
      (a.op === '=' && v === a.value) ||
      (a.op === '~=' && v.split(/\s+/).includes(a.value)) ||
      (a.op === '|=' && (v === a.value || v.startsWith(`${a.value}-`))) ||
      (a.op === '^=' && v.startsWith(a.value)) ||
      (a.op === '$=' && v.endsWith(a.value)) ||
      (a.op === '*=' && v.includes(a.value));
    if (!ok) return false;
  }
  return true;
}

function matches(selector: Selector, el: CssElement): boolean {
  const [first, ...rest] = selector;
  if (!first || !matchesCompound(first.compound, el)) return false;
  return matchesAncestors(rest, el.parent, first.child);
}

function matchesAncestors(selector: Selector, from: CssElement | null, childOnly: boolean): boolean {
  if (selector.length === 0) return true;
  const [next, ...rest] = selector;
  for (let el = from; el; el = childOnly ? null : el.parent) {
    if (matchesCompound(next!.compound, el) && matchesAncestors(rest, el.parent, next!.child)) return true;
  }
  return false;
}

/**
 * Finds the rules that apply to an element. Rules are indexed by the id, class or tag of their
 * rightmost compound, so an element is checked only against rules that could match it.
 */
export function createRuleIndex(rules: CssRule[]): (el: CssElement) => CssRule[] {
  const byKey = new Map<string, CssRule[]>();
  const everywhere: CssRule[] = [];
  for (const rule of rules) {
    const c = rule.selector?.[0]?.compound;
    const key = c?.id ? `#${c.id}` : c?.classes[0] ? `.${c.classes[0]}` : c?.tag;
    if (!key) everywhere.push(rule); // universal or not understood: applied to every element
    else {
      const list = byKey.get(key);
      if (list) list.push(rule);
      else byKey.set(key, [rule]);
    }
  }
  const check = (found: CssRule[], key: string, el: CssElement) => {
    const rules = byKey.get(key);
    if (rules) for (const rule of rules) if (matches(rule.selector!, el) && !found.includes(rule)) found.push(rule);
  };
  return (el) => {
    const found = everywhere.length > 0 ? [...everywhere] : [];
    check(found, el.name, el);
    if (el.attrs.id) check(found, `#${el.attrs.id}`, el);
    const classes = el.attrs.class;
    if (classes) for (const c of classes.split(/\s+/)) if (c) check(found, `.${c}`, el);
    return found;
  };
}
