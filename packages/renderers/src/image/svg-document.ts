import { SaxesParser } from 'saxes';
import { MAX_SVG_DEPTH, MAX_SVG_ELEMENTS } from '@kiln/shared';
import { capsExceeded, RenderError } from '../contract.js';
import { createRuleIndex, parseDeclarations, parseStyleSheet, type CssRule } from './svg-css.js';
import { isInternalReference } from './svg-safety.js';

export const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/**
 * Presentation properties that change what resvg allocates or how often it draws, read from
 * attributes, `<style>` sheets and `style` attributes alike.
 */
const COST_PROPERTIES = new Set([
  'opacity',
  'filter',
  'clip-path',
  'mask',
  'mix-blend-mode',
  'isolation',
  'marker',
  'marker-start',
  'marker-mid',
  'marker-end',
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'font-size',
  'letter-spacing',
  'word-spacing',
  'display',
  'writing-mode',
]);
/** resvg reads these two from CSS and `style` only, never from attributes. */
const CSS_ONLY = new Set(['mix-blend-mode', 'isolation', 'marker']);

/** One element as the cost analysis sees it. */
export interface SvgNode {
  /** Local name of an SVG-namespace element; '' for any other (resvg skips it and its content). */
  name: string;
  /** SVG and xlink attributes by local name (`xlink:href` → `href`). */
  attrs: Record<string, string>;
  children: SvgNode[];
  parent: SvgNode | null;
  /** Index among all the document's nodes (elements, text, comments) in document order. */
  order: number;
  /** Characters of text directly inside, whitespace not counted (it has no outline to draw). */
  text: number;
  /** Cost-relevant properties: every value an attribute, a CSS rule or `style` gives, in that order. */
  props: Map<string, string[]>;
}

export interface SvgDocument {
  root: SvgNode;
  byId: Map<string, SvgNode>;
  /** Nodes of every kind, as resvg's XML tree counts them when it scans for an id. */
  nodeCount: number;
  elementCount: number;
  /** Selectors in `<style>` sheets; resvg tries each against every element. */
  selectorCount: number;
  /** Every reference to something outside the document (refused by the caller). */
  externalReferences: string[];
  /** `<style>` rules that set cost-relevant properties (applied by {@link applyStyles}). */
  rules: CssRule[];
}

/** Shared by every element without cost-relevant properties (most of them); never written to. */
const NO_PROPERTIES: Map<string, string[]> = new Map();
const ROOT_NAMESPACES: ReadonlyMap<string, string> = new Map([['xml', XML_NS]]);

const CSS_URL = /url\(\s*(["']?)(.*?)\1\s*\)/gis;

/**
 * Parses SVG markup with a strict XML parser into the tree the cost analysis walks. Throws a
 * `validation_failed` RenderError for markup resvg could not parse (with the parser's line and
 * column), a root that is not `<svg>`, a DOCTYPE, or a document deeper or larger than the caps
 * (checked while parsing, so a huge document is refused before it is held in memory).
 */
export function parseSvgDocument(svg: string, path: (string | number)[]): SvgDocument {
  const parser = new SaxesParser({ position: true });
  const externalReferences: string[] = [];
  const styleTexts: string[] = [];
  const byId = new Map<string, SvgNode>();
  // Open elements and the namespace prefixes in scope at each.
  const nodes: SvgNode[] = [];
  const namespaces: Map<string, string>[] = [];
  let root: SvgNode | undefined;
  let order = 0;
  let elementCount = 0;
  let inStyle: { node: SvgNode; text: string; css: boolean } | undefined;

  const malformed = (message: string): RenderError =>
    new RenderError('validation_failed', `The SVG is not well-formed XML: ${message} (line ${parser.line}, column ${parser.column}).`, {
      details: [{ path, message, line: parser.line, column: parser.column }],
    });

  // No 'error' or 'doctype' handler on purpose: past six handlers saxes runs about 4× slower
  // (its handler fields are added after construction), and without one it throws on errors anyway.
  if (/<!DOCTYPE|<!ENTITY/i.test(svg)) externalReferences.push('<!DOCTYPE>/<!ENTITY> declarations');
  parser.on('processinginstruction', ({ target, body }) => {
    order++;
    // resvg ignores processing instructions, but a stylesheet link is refused like any URL.
    if (/stylesheet/i.test(target) && /href/i.test(body)) externalReferences.push(`<?${target}?>`);
  });
  // Comments are not counted in `order`: a comment handler would cost more than the precision.
  const onText = (text: string) => {
    order++;
    const top = nodes[nodes.length - 1];
    if (top) top.text += visibleChars(text);
    if (inStyle) inStyle.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('opentag', (tag) => {
    order++;
    elementCount++;
    const parent: SvgNode | undefined = nodes[nodes.length - 1];
    const attributes = tag.attributes as Record<string, string>;
    let ns = namespaces[namespaces.length - 1] ?? ROOT_NAMESPACES;
    // Most elements have no prefixed attribute: their attribute object is used as it is.
    let plain = true;
    for (const name in attributes) {
      const value = attributes[name]!;
      const c = name.indexOf(':');
      if (c >= 0 || name === 'xmlns') {
        plain = false;
        if (name === 'xmlns' || name.startsWith('xmlns:')) {
          if (ns === namespaces[namespaces.length - 1] || ns === ROOT_NAMESPACES) ns = new Map(ns);
          ns.set(name === 'xmlns' ? '' : name.slice(6), value);
          continue;
        }
      }
      // Any href and any url() counts, whatever its namespace: refusing too much is harmless here.
      if ((c < 0 ? name === 'href' : name.endsWith(':href')) && !isInternalReference(value)) externalReferences.push(value);
      if (value.includes('url(')) {
        for (const m of value.matchAll(CSS_URL)) if (!isInternalReference(m[2]!)) externalReferences.push(`url(${m[2]})`);
      }
    }
    const colon = tag.name.indexOf(':');
    const prefix = colon < 0 ? '' : tag.name.slice(0, colon);
    const local = colon < 0 ? tag.name : tag.name.slice(colon + 1);
    const uri = ns.get(prefix);
    if (uri === undefined && prefix) throw malformed(`unknown namespace prefix "${prefix}"`);
    let attrs: Record<string, string> = attributes;
    if (!plain) {
      attrs = {};
      for (const name in attributes) {
        const c = name.indexOf(':');
        if (c < 0) {
          if (name !== 'xmlns') attrs[name] = attributes[name]!;
          continue;
        }
        const aPrefix = name.slice(0, c);
        if (aPrefix === 'xmlns') continue;
        const aUri = ns.get(aPrefix);
        if (aUri === undefined) throw malformed(`unknown namespace prefix "${aPrefix}"`);
        if (aUri === XLINK_NS) attrs[name.slice(c + 1)] = attributes[name]!;
      }
    }
    const node: SvgNode = {
      name: uri === SVG_NS && (!parent || parent.name) ? local : '',
      attrs,
      children: [],
      parent: parent ?? null,
      order,
      text: 0,
      props: NO_PROPERTIES,
    };
    if (!parent) {
      if (node.name !== 'svg') {
        throw new RenderError('validation_failed', 'The root element must be <svg> in the SVG namespace (xmlns="http://www.w3.org/2000/svg").', {
          details: [{ path, message: `root element is <${tag.name}>${uri === SVG_NS ? '' : ' outside the SVG namespace'}` }],
        });
      }
      root = node;
    } else {
      parent.children.push(node);
    }
    if (node.name && attrs.id !== undefined && !byId.has(attrs.id)) byId.set(attrs.id, node);
    nodes.push(node);
    namespaces.push(ns);
    if (nodes.length > MAX_SVG_DEPTH) {
      throw capsExceeded([{ path, message: `SVG elements are nested more than ${MAX_SVG_DEPTH} deep`, limit: MAX_SVG_DEPTH, actual: nodes.length }]);
    }
    if (elementCount > MAX_SVG_ELEMENTS) {
      throw capsExceeded([{ path, message: `the SVG has more than ${MAX_SVG_ELEMENTS} elements`, limit: MAX_SVG_ELEMENTS, actual: elementCount }]);
    }
    // resvg reads <style> by local name, in any namespace, unless its type is something other than CSS.
    if (local === 'style' && !inStyle) inStyle = { node, text: '', css: !attrs.type || attrs.type === 'text/css' };
  });
  parser.on('closetag', () => {
    const closed = nodes.pop()!;
    namespaces.pop();
    if (inStyle?.node === closed) {
      if (inStyle.css) styleTexts.push(inStyle.text);
      inStyle = undefined;
    }
  });

  try {
    parser.write(svg).close();
  } catch (err) {
    if (err instanceof RenderError) throw err;
    throw malformed((err as Error).message.replace(/^\d+:\d+: /, ''));
  }
  if (!root) throw malformed('no root element');

  const sheet = parseStyleSheet(styleTexts.join('\n'), (p) => COST_PROPERTIES.has(p));
  for (const ref of sheet.references) if (ref === '@import' || !isInternalReference(ref.slice(4, -1))) externalReferences.push(ref);
  return { root, byId, nodeCount: order + 1, elementCount, selectorCount: sheet.selectorCount, externalReferences, rules: sheet.rules };
}

function visibleChars(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 32) n++;
  return n;
}

/**
 * Fills `props` of every SVG element: attributes first, then matching CSS rules, then `style`.
 * Separate from parsing so that the CSS cap is checked before any selector is matched.
 */
export function applyStyles(doc: SvgDocument): void {
  const { root, rules } = doc;
  const rulesFor = rules.length > 0 ? createRuleIndex(rules) : undefined;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (!node.name) continue;
    for (const name in node.attrs) {
      if (COST_PROPERTIES.has(name) && !CSS_ONLY.has(name)) addProperty(node, name, node.attrs[name]!);
    }
    if (rulesFor) for (const rule of rulesFor(node)) for (const [name, value] of rule.declarations) addProperty(node, name, value);
    if (node.attrs.style) {
      for (const [name, value] of parseDeclarations(node.attrs.style)) if (COST_PROPERTIES.has(name)) addProperty(node, name, value);
    }
    for (const child of node.children) stack.push(child);
  }
}

function addProperty(node: SvgNode, name: string, value: string): void {
  const names = name === 'marker' ? ['marker-start', 'marker-mid', 'marker-end'] : [name];
  for (const n of names) {
    if (node.props === NO_PROPERTIES) node.props = new Map();
    const list = node.props.get(n);
    if (list) list.push(value);
    else node.props.set(n, [value]);
  }
}
