import { MAX_SVG_DEPTH } from '@kiln/shared';
import { capsExceeded, RenderError } from '../contract.js';
import type { SvgDocument, SvgNode } from './svg-document.js';

/** What parsing costs resvg before it draws anything (its usvg tree is built with every `<use>` expanded). */
export interface ExpansionStats {
  /** Elements once every `<use>` is replaced by a copy of its target. */
  elements: number;
  /** Deepest nesting, `<use>` expansion included (resvg counts a `<use>` and its copy as two levels). */
  depth: number;
  /** Nodes resvg visits finding `<use>` targets (a linear scan from the document's start per lookup). */
  useLookupSteps: number;
}

/** The `<use>` target an element names, or undefined when it names none (resvg then draws nothing). */
export function hrefTarget(doc: SvgDocument, node: SvgNode): SvgNode | undefined {
  const href = node.attrs.href?.trim();
  if (!href?.startsWith('#')) return undefined;
  return doc.byId.get(decodeFragment(href.slice(1)));
}

function decodeFragment(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

/**
 * Counts what expanding `<use>` produces, memoised per element so a chain of uses that doubles at
 * every step (2^29 elements from a few hundred bytes) is counted, not built. A `<use>` that reaches
 * itself again is refused: resvg would either skip it silently or fail on its depth limit.
 */
export function expansionStats(doc: SvgDocument, path: (string | number)[]): ExpansionStats {
  const memo = new Map<SvgNode, ExpansionStats>();
  const inProgress = new Set<SvgNode>();
  const lookupsWithin = new Map<SvgNode, number>();

  // resvg finds a target by walking the document from its start: the cost is the target's position,
  // or the whole document when nothing has that id.
  const lookup = (use: SvgNode): number => {
    const target = hrefTarget(doc, use);
    if (target) return target.order + 1;
    return use.attrs.href?.trim().startsWith('#') ? doc.nodeCount : 0;
  };
  // Before expanding a use, resvg checks that no `<use>` inside the target points back, looking
  // each of them up again.
  const recursionCheck = (target: SvgNode): number => {
    let cost = lookupsWithin.get(target);
    if (cost !== undefined) return cost;
    cost = 0;
    const stack = [...target.children];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.name === 'use') cost += lookup(n);
      for (const c of n.children) stack.push(c);
    }
    lookupsWithin.set(target, cost);
    return cost;
  };

  const visit = (node: SvgNode, level: number): ExpansionStats => {
    const known = memo.get(node);
    if (known) return known;
    if (level > MAX_SVG_DEPTH) {
      throw capsExceeded([
        { path, message: `SVG elements (with <use> expanded) are nested more than ${MAX_SVG_DEPTH} deep`, limit: MAX_SVG_DEPTH, actual: level },
      ]);
    }
    inProgress.add(node);
    const stats: ExpansionStats = { elements: 1, depth: 1, useLookupSteps: 0 };
    // resvg does not look inside <text> for <use>, and skips <style> and foreign elements.
    if (node.name !== 'text') {
      for (const child of node.children) {
        if (!child.name || child.name === 'style') continue;
        const c = visit(child, level + 1);
        stats.elements += c.elements;
        stats.depth = Math.max(stats.depth, 1 + c.depth);
        stats.useLookupSteps += c.useLookupSteps;
      }
    }
    if (node.name === 'use') {
      stats.useLookupSteps += lookup(node);
      const target = hrefTarget(doc, node);
      if (target && target.name) {
        if (inProgress.has(target) || target === node) {
          throw new RenderError('validation_failed', 'The SVG has <use> elements that refer to each other in a cycle.', {
            details: [{ path, message: `<use href="${node.attrs.href}"> reaches itself again` }],
          });
        }
        stats.useLookupSteps += recursionCheck(target);
        const t = visit(target, level + 2);
        stats.elements += t.elements;
        stats.depth = Math.max(stats.depth, 2 + t.depth);
        stats.useLookupSteps += t.useLookupSteps;
      }
    }
    inProgress.delete(node);
    memo.set(node, stats);
    return stats;
  };
  return visit(doc.root, 1);
}
