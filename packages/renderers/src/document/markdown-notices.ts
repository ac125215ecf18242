import type { Token, Tokens } from 'marked';
import { closesFence, fenceOpener, headerCellCount } from './markdown-line-shapes.js';
import { headingSlugger, plainText } from './heading-ids.js';
import { isPageBreakComment, isPageBreakLine } from './page-breaks.js';

/** Link targets kept as links; anything else (javascript:, file:, data:, asset:, relative) becomes plain text. */
export const SAFE_LINK = /^(?:https?:|mailto:|#)/i;

/** What in a parsed document will not render as written; each becomes at most one warning. */
export interface MarkdownNotices {
  /** Raw HTML pieces (blocks and inline tags), shown as text; `samples` names the first few. */
  rawHtml: { count: number; samples: string[] };
  /** Targets of links shown as plain text, distinct, in order. */
  refusedLinks: string[];
  /** `#anchor` link targets that match no heading. */
  brokenAnchors: string[];
  /** `\pagebreak` or `<!-- pagebreak -->` inside a list or quote, left as text. */
  strayPageBreaks: number;
  /** Table cells beyond their header's width, which marked drops. */
  droppedCells: number;
  /** Fenced code blocks with no closing fence: they run to the end of their container. */
  unclosedFences: number;
}

const SAMPLES = 5;

/**
 * Walks the tokens once (after page breaks were split out of the top level) and notes what the
 * renderer will not show as written.
 */
export function collectNotices(tokens: Token[]): MarkdownNotices {
  const notices: MarkdownNotices = {
    rawHtml: { count: 0, samples: [] },
    refusedLinks: [],
    brokenAnchors: [],
    strayPageBreaks: 0,
    droppedCells: 0,
    unclosedFences: 0,
  };
  const headingIds = new Set<string>();
  const slug = headingSlugger();
  const anchors = new Set<string>();
  const refusedLinks = new Set<string>();
  const htmlSamples = new Set<string>();

  const visit = (list: Token[] | undefined, nested: boolean) => {
    for (const token of list ?? []) {
      switch (token.type) {
        case 'html':
          if (isPageBreakComment(token)) notices.strayPageBreaks++;
          else {
            notices.rawHtml.count++;
            if (htmlSamples.size < SAMPLES) htmlSamples.add(htmlSample((token as Tokens.HTML).text));
          }
          break;
        case 'link': {
          const href = (token as Tokens.Link).href.trim();
          if (!SAFE_LINK.test(href)) refusedLinks.add(href || '(empty)');
          else if (href.startsWith('#')) anchors.add(href);
          visit((token as Tokens.Link).tokens, nested);
          break;
        }
        case 'heading':
          headingIds.add(slug(plainText((token as Tokens.Heading).tokens)));
          visit((token as Tokens.Heading).tokens, nested);
          break;
        case 'paragraph':
        case 'text':
          // Block text only (a paragraph, a list item's text): inline text tokens repeat it.
          if ((token.type === 'paragraph' || 'tokens' in token) && nested) {
            notices.strayPageBreaks += (token as Tokens.Paragraph).text.split('\n').filter(isPageBreakLine).length;
          }
          visit((token as Tokens.Paragraph).tokens, nested);
          break;
        case 'code':
          if ((token as Tokens.Code).codeBlockStyle !== 'indented' && !isClosedFence(token.raw)) notices.unclosedFences++;
          break;
        case 'table': {
          const table = token as Tokens.Table;
          for (const row of table.raw.split('\n').slice(2)) {
            notices.droppedCells += Math.max(0, headerCellCount(row) - table.header.length);
          }
          for (const cell of table.header) visit(cell.tokens, nested);
          for (const row of table.rows) for (const cell of row) visit(cell.tokens, nested);
          break;
        }
        case 'list':
          for (const item of (token as Tokens.List).items) visit(item.tokens, true);
          break;
        case 'blockquote':
          visit((token as Tokens.Blockquote).tokens, true);
          break;
        default:
          if ('tokens' in token) visit(token.tokens as Token[], nested);
      }
    }
  };
  visit(tokens, false);

  notices.rawHtml.samples = [...htmlSamples];
  notices.refusedLinks = [...refusedLinks];
  notices.brokenAnchors = [...anchors].filter((href) => !headingIds.has(decodeAnchor(href.slice(1))));
  return notices;
}

/** One concise, actionable warning per kind of thing noticed. */
export function noticeWarnings(notices: MarkdownNotices): string[] {
  const warnings: string[] = [];
  const { rawHtml, refusedLinks, brokenAnchors, strayPageBreaks, droppedCells, unclosedFences } = notices;
  if (rawHtml.count > 0) {
    warnings.push(
      `Raw HTML is shown as text, never interpreted: ${plural(rawHtml.count, 'place')} (${rawHtml.samples.join(', ')}). ` +
        'Write it in Markdown instead; images are ![alt](asset:<asset id>).',
    );
  }
  if (refusedLinks.length > 0) {
    warnings.push(
      `${plural(refusedLinks.length, 'link target')} shown as plain text, since only http(s), mailto and #heading links are kept: ` +
        `${listed(refusedLinks)}.`,
    );
  }
  if (brokenAnchors.length > 0) {
    warnings.push(`${plural(brokenAnchors.length, 'link')} to a heading that does not exist: ${listed(brokenAnchors)}.`);
  }
  if (strayPageBreaks > 0) {
    warnings.push(
      `${plural(strayPageBreaks, 'page break')} inside a list or quote shown as text; put \\pagebreak or <!-- pagebreak --> ` +
        'on a line of its own outside lists and quotes.',
    );
  }
  if (droppedCells > 0) {
    warnings.push(`${plural(droppedCells, 'table cell')} beyond the header's columns dropped; give the header as many cells as the widest row.`);
  }
  if (unclosedFences > 0) {
    warnings.push(`${plural(unclosedFences, 'code block')} never closed, so everything after its opening fence is shown as code; end it with a matching \`\`\` line.`);
  }
  return warnings;
}

function isClosedFence(raw: string): boolean {
  const lines = raw.replace(/\n+$/, '').split('\n');
  const opener = fenceOpener(lines[0]!.trimStart());
  return opener !== undefined && lines.length > 1 && closesFence(lines.at(-1)!.trimStart(), opener);
}

function htmlSample(html: string): string {
  const text = html.trim();
  if (text.startsWith('<!--')) return '<!-- -->';
  const tag = /^<\/?([A-Za-z][\w-]*)/.exec(text);
  return tag ? `<${tag[1]!.toLowerCase()}>` : text.slice(0, 20);
}

function decodeAnchor(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The first few items, quoted and cut short, and how many more. */
function listed(items: string[]): string {
  const shown = items.slice(0, SAMPLES).map((s) => (s.length > 60 ? `${s.slice(0, 57)}...` : s));
  return shown.join(', ') + (items.length > SAMPLES ? ` and ${items.length - SAMPLES} more` : '');
}
