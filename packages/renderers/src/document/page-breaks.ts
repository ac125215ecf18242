import type { Token, Tokens } from 'marked';

/** The token a page break becomes; rendered by the `pagebreak` renderer extension. */
export interface PageBreakToken {
  type: 'pagebreak';
  raw: string;
}

/** The HTML of a page break: nothing to see on paper, a forced page break in print. */
export const PAGE_BREAK_HTML = '<div class="page-break" role="separator" aria-label="page break"></div>\n';

const BACKSLASH_FORM = '\\pagebreak';
const COMMENT_FORM = /^<!--\s*pagebreak\s*-->$/i;

/** A line holding only `\pagebreak` (spaces around allowed). */
export function isPageBreakLine(line: string): boolean {
  return line.trim() === BACKSLASH_FORM;
}

/** An HTML block that is only `<!-- pagebreak -->`. */
export function isPageBreakComment(token: Token): boolean {
  return token.type === 'html' && (token as Tokens.HTML).block && COMMENT_FORM.test((token as Tokens.HTML).text.trim());
}

/**
 * Turns the page breaks among top-level blocks into `pagebreak` tokens, in place: an HTML block
 * `<!-- pagebreak -->` (marked already ends a paragraph there), and a `\pagebreak` line, which
 * marked leaves inside the paragraph it stands in, so that paragraph is cut in two and each part
 * lexed again (`lexInline`, with the document's link definitions). Page breaks inside lists and
 * quotes are left as written. Returns how many there are.
 */
export function splitPageBreaks(tokens: Token[], lexInline: (text: string) => Token[]): number {
  let count = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (isPageBreakComment(token)) {
      tokens[i] = pageBreak(token.raw);
      count++;
      continue;
    }
    if (token.type !== 'paragraph') continue;
    const lines = (token as Tokens.Paragraph).text.split('\n');
    if (!lines.some(isPageBreakLine)) continue;
    const replacement: Token[] = [];
    let part: string[] = [];
    const flush = () => {
      if (part.length === 0) return;
      const text = part.join('\n');
      replacement.push({ type: 'paragraph', raw: text, text, tokens: lexInline(text) } satisfies Tokens.Paragraph);
      part = [];
    };
    for (const line of lines) {
      if (!isPageBreakLine(line)) {
        part.push(line);
        continue;
      }
      flush();
      replacement.push(pageBreak(line));
      count++;
    }
    flush();
    tokens.splice(i, 1, ...replacement);
    i += replacement.length - 1;
  }
  return count;
}

function pageBreak(raw: string): Token {
  return { type: 'pagebreak', raw } satisfies PageBreakToken as unknown as Token;
}
