import { Lexer, Marked, type Tokens, type TokensList } from 'marked';
import { RenderError } from '../contract.js';
import { headingSlugger, plainText } from './heading-ids.js';
import { collectNotices, SAFE_LINK, type MarkdownNotices } from './markdown-notices.js';
import { PAGE_BREAK_HTML, splitPageBreaks } from './page-breaks.js';

const ASSET_IMAGE = /^asset:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export interface ParsedMarkdown {
  tokens: TokensList;
  /** Asset ids of `![alt](asset:<id>)` images, in order of first use. */
  assetIds: string[];
  /** Images that are not assets: refused, since Kiln never fetches. */
  refusedImages: string[];
  /** Plain text of the first level-1 heading, the default document title. */
  firstHeading?: string;
  /** What will not render as written (raw HTML, refused links …), for the job's warnings. */
  notices: MarkdownNotices;
}

/**
 * GitHub-flavoured Markdown, parsed once with a private marked instance (marked's global `use()`
 * would leak options between renderers sharing the process). Check the caps first
 * (markdown-caps.ts): marked is slow or recurses without bound on some inputs.
 */
export function parseMarkdown(markdown: string): ParsedMarkdown {
  const marked = new Marked({ gfm: true, async: false });
  const tokens = marked.lexer(markdown);
  splitPageBreaks(tokens, (text) => {
    // A fresh lexer (a shared one keeps state), reading the document's link definitions.
    const lexer = new Lexer({ gfm: true, async: false });
    lexer.tokens.links = tokens.links;
    return lexer.inlineTokens(text);
  });
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
  return { tokens, assetIds: [...assetIds], refusedImages, firstHeading, notices: collectNotices(tokens) };
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
 * it would let a document embed scripts, iframes or remote images. Images are the inlined assets;
 * page breaks are empty `div.page-break`s that the page's CSS breaks after.
 */
export function markdownBodyHtml(parsed: ParsedMarkdown, images: ReadonlyMap<string, string>): string {
  const slug = headingSlugger();
  const marked = new Marked({
    gfm: true,
    async: false,
    extensions: [{ name: 'pagebreak', renderer: () => PAGE_BREAK_HTML }],
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
        const id = slug(plainText(token.tokens));
        return `<h${token.depth} id="${id}">${this.parser.parseInline(token.tokens)}</h${token.depth}>\n`;
      },
    },
  });
  return marked.parser(parsed.tokens);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
