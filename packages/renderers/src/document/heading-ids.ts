import type { Token } from 'marked';

/**
 * GitHub-style heading ids (`## Results` → `results`, a second one `results-1`), so that
 * `[see below](#results)` links work inside the PDF. One slugger per document: it remembers the
 * ids it gave out.
 */
export function headingSlugger(): (headingText: string) => string {
  const seen = new Map<string, number>();
  return (headingText) => {
    const base = slugify(headingText) || 'section';
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  };
}

function slugify(text: string): string {
  return text
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s+/g, '-');
}

/** The plain text of inline tokens (a heading's words without their markup). */
export function plainText(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  return tokens
    .map((t) => ('tokens' in t && t.tokens ? plainText(t.tokens) : 'text' in t ? String(t.text) : ''))
    .join('');
}
