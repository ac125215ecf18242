import { Marked, type Token, type Tokens, type TokensList } from 'marked';
import { RenderError } from '../contract.js';

const ASSET_IMAGE = /^asset:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** Link targets kept as links; anything else (javascript:, file:, data:, asset:) becomes plain text. */
const SAFE_LINK = /^(?:https?:|mailto:|#)/i;

export interface ParsedMarkdown {
  tokens: TokensList;
  /** Asset ids of `![alt](asset:<id>)` images, in order of first use. */
  assetIds: string[];
  /** Images that are not assets: refused, since Kiln never fetches. */
  refusedImages: string[];
  /** Plain text of the first level-1 heading, the default document title. */
  firstHeading?: string;
}

/**
 * GitHub-flavoured Markdown, parsed once with a private marked instance (marked's global `use()`
 * would leak options between renderers sharing the process).
 */
export function parseMarkdown(markdown: string): ParsedMarkdown {
  const marked = new Marked({ gfm: true, async: false });
  const tokens = marked.lexer(markdown);
  const assetIds = new Set<string>();
  const refusedImages: string[] = [];
  let firstHeading: string | undefined;
  marked.walkTokens(tokens, (token) => {
    if (token.type === 'image') {
      const id = assetIdOf((token as Tokens.Image).href);
      if (id) assetIds.add(id);
      else refusedImages.push((token as Tokens.Image).href);
    } else if (token.type === 'heading' && (token as Tokens.Heading).depth === 1 && firstHeading === undefined) {
      firstHeading = plainText((token as Tokens.Heading).tokens).trim() || undefined;
    }
  });
  return { tokens, assetIds: [...assetIds], refusedImages, firstHeading };
}

export function assetIdOf(href: string): string | undefined {
  return ASSET_IMAGE.exec(href.trim())?.[1]?.toLowerCase();
}

export function assertOnlyAssetImages(parsed: ParsedMarkdown): void {
  if (parsed.refusedImages.length === 0) return;
  throw new RenderError(
    'validation_failed',
    'Document images must be assets of your company, written ![alt](asset:<asset id>); Kiln does not fetch URLs or read files.',
    {
      details: parsed.refusedImages.slice(0, 10).map((href) => ({
        path: ['input', 'markdown'],
        message: `image "${href.slice(0, 200)}" is not an asset reference`,
      })),
    },
  );
}

/**
 * The document body as HTML. Raw HTML in the Markdown is escaped and shown as text: interpreting
 * it would let a document embed scripts, iframes or remote images. Images are the inlined assets.
 */
export function markdownBodyHtml(parsed: ParsedMarkdown, images: ReadonlyMap<string, string>): string {
  const slugs = new Map<string, number>();
  const marked = new Marked({
    gfm: true,
    async: false,
    renderer: {
      html(token: Tokens.HTML | Tokens.Tag) {
        const text = escapeHtml(token.text);
        return 'block' in token && token.block ? `<pre class="raw-html">${text}</pre>\n` : text;
      },
      image(token: Tokens.Image) {
        const id = assetIdOf(token.href);
        const src = id ? images.get(id) : undefined;
        // Unreachable after assertOnlyAssetImages; kept so a missing image still shows its alt text.
        if (!src) return `<span class="missing-image">[${escapeHtml(token.text)}]</span>`;
        const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
        return `<img src="${src}" alt="${escapeHtml(token.text)}"${title}>`;
      },
      link(token: Tokens.Link) {
        if (SAFE_LINK.test(token.href.trim())) return false; // marked's own rendering, escaped
        return this.parser.parseInline(token.tokens);
      },
      heading(token: Tokens.Heading) {
        // GitHub-style ids, so `[see below](#results)` links work inside the PDF.
        const base = slugify(plainText(token.tokens)) || 'section';
        const seen = slugs.get(base) ?? 0;
        slugs.set(base, seen + 1);
        const id = seen === 0 ? base : `${base}-${seen}`;
        return `<h${token.depth} id="${id}">${this.parser.parseInline(token.tokens)}</h${token.depth}>\n`;
      },
    },
  });
  return marked.parser(parsed.tokens);
}

function plainText(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  return tokens
    .map((t) => ('tokens' in t && t.tokens ? plainText(t.tokens) : 'text' in t ? String(t.text) : ''))
    .join('');
}

function slugify(text: string): string {
  return text
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s+/g, '-');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
