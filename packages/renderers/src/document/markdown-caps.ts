import {
  MAX_EMPHASIS_MARKERS_PER_PARAGRAPH,
  MAX_MARKDOWN_CHARS,
  MAX_MARKDOWN_NESTING,
  MAX_MARKERS_PER_WORD,
  MAX_TABLE_CELLS,
  MAX_TABLE_COLUMNS,
  type CapViolation,
} from '@kiln/shared';
import { capsExceeded } from '../contract.js';
import {
  bulletAt,
  closesFence,
  containerPrefix,
  delimiterRowColumns,
  emphasisMarkers,
  fenceOpener,
  headerCellCount,
  interruptsParagraph,
  isBlank,
  looksLikeFence,
  mayOpenMultiLineRaw,
  mostMarkersInAWord,
  spaceIndent,
  strictDelimiterRowColumns,
  type FenceOpener,
} from './markdown-line-shapes.js';

/** The largest value a cap saw, and the 1-based line where. */
interface Peak {
  value: number;
  line: number;
}

/** What the scan measured; each is compared with its cap. */
export interface MarkdownMeasures {
  chars: number;
  nesting: Peak;
  tableColumns: Peak;
  tableCells: number;
  emphasisMarkers: Peak;
  wordMarkers: Peak;
}

/**
 * Measures a Markdown document against the published caps in one pass over its lines, without
 * parsing it: marked itself is what the caps protect (its inline parser is quadratic in some
 * inputs, its block parser recurses once per nesting level), so this must stay linear and cheap
 * (under 15 ms for the largest document accepted, 100,000 one-character lines).
 *
 * Every measure is an upper bound of what marked will meet. Inline work is counted per *run* —
 * the text marked lexes in one go: a paragraph, list item, table row or heading. Runs are split
 * at blank lines and at bullets that always start a new block; fenced code is skipped and table
 * rows are split only while nothing in the document could make marked read those lines otherwise
 * (HTML blocks and reference definitions can swallow later lines; after one, everything counts).
 */
export function measureMarkdown(markdown: string): MarkdownMeasures {
  const measures: MarkdownMeasures = {
    chars: markdown.length,
    nesting: { value: 0, line: 0 },
    tableColumns: { value: 0, line: 0 },
    tableCells: 0,
    emphasisMarkers: { value: 0, line: 0 },
    wordMarkers: { value: 0, line: 0 },
  };
  // marked turns \r\n and \r into \n before anything else.
  const lines = markdown.split(/\r\n|\r|\n/);
  const raise = (peak: Peak, value: number, line: number) => {
    if (value > peak.value) {
      peak.value = value;
      peak.line = line;
    }
  };

  /** Fences, table rows and ordered bullets are read structurally only while this holds. */
  let trusted = true;
  let fence: FenceOpener | undefined;
  let runMarkers = 0;
  let runLine = 0;
  let atBlockStart = true;
  let inTable = false;
  let tableDelimiterLine = -1;
  /** Content indent of the last list item that started a run, while no lazy line followed it. */
  let openItemIndent: number | undefined;
  /** Columns of the table a delimiter-looking row may have started (for the cell cap). */
  let looseTableColumns = 0;
  /**
   * Quote levels a line may sit in without writing them: marked continues a quote with lines
   * that lack the `>` (laziness) and then reads their own markers inside it, so `> - - a`
   * followed by `    - b` nests four deep. Holds until a blank line ends every quote.
   */
  let carriedQuotes = 0;

  const startRun = (line: number) => {
    runMarkers = 0;
    runLine = line;
  };

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const lineNo = index + 1;

    if (fence) {
      if (fence.indent === 0) {
        // A top-level fence: code for marked until its closer, whatever the lines look like.
        if (closesFence(line, fence)) {
          fence = undefined;
          startRun(lineNo + 1);
          atBlockStart = true;
        }
        continue;
      }
      // An indented opener may sit in a list item, which ends (and the code with it) at a less
      // indented line; and its closer may be indented relative to the item. Follow marked only
      // while both readings agree, then stop trusting.
      if (!isBlank(line)) {
        const indent = spaceIndent(line);
        if (indent === undefined || indent < fence.indent) {
          fence = undefined;
          trusted = false;
        } else if (looksLikeFence(line)) {
          const closes = closesFence(line, fence);
          fence = undefined;
          if (!closes) trusted = false;
          else {
            startRun(lineNo + 1);
            atBlockStart = true;
            continue;
          }
        } else continue;
      } else continue;
    }

    if (isBlank(line)) {
      startRun(lineNo + 1);
      atBlockStart = true;
      inTable = false;
      openItemIndent = undefined;
      looseTableColumns = 0;
      carriedQuotes = 0;
      continue;
    }

    const prefix = containerPrefix(line);
    carriedQuotes = Math.max(carriedQuotes, prefix.quotes);
    raise(measures.nesting, carriedQuotes + prefix.lists, lineNo);
    const word = mostMarkersInAWord(line);
    raise(measures.wordMarkers, word.count, lineNo);

    // Cells: any delimiter-looking row (in a quote or list too) may start a table whose rows run
    // to the next blank line and are padded to its width.
    const columns = Math.max(delimiterRowColumns(line, prefix.contentStart), delimiterRowColumns(line, quoteContentStart(line)));
    if (columns > 0) {
      raise(measures.tableColumns, columns, lineNo);
      looseTableColumns = Math.max(looseTableColumns, columns);
      measures.tableCells += looseTableColumns; // the header row above
    } else measures.tableCells += looseTableColumns;

    if (trusted && (mayOpenMultiLineRaw(line) || (looksLikeFence(line) && !fenceOpener(line)))) trusted = false;
    if (trusted) {
      const opener = fenceOpener(line);
      if (opener) {
        fence = opener;
        inTable = false;
        openItemIndent = undefined;
        looseTableColumns = 0; // a fence ends any table's rows
        continue;
      }
    }

    // Where a new inline run starts.
    const bullet = bulletAt(line);
    if (atBlockStart) {
      startRun(lineNo);
      inTable = trusted && isTableHeader(line, lines[index + 1]);
      tableDelimiterLine = inTable ? index + 1 : -1;
    } else if (inTable && (index === tableDelimiterLine || line[0] === '|')) {
      startRun(lineNo); // each row's cells are runs of their own
    } else if (bullet && bullet.indent <= 3 && startsNewItem(bullet, trusted ? openItemIndent : undefined)) {
      startRun(lineNo);
      inTable = false;
    } else {
      inTable = false;
      const indent = spaceIndent(line);
      if (openItemIndent !== undefined && (indent === undefined || indent < openItemIndent)) openItemIndent = undefined;
    }
    if (bullet && bullet.indent <= 3 && runLine === lineNo) openItemIndent = bullet.contentIndent;
    atBlockStart = false;

    runMarkers += emphasisMarkers(line);
    raise(measures.emphasisMarkers, runMarkers, runLine);
  }
  return measures;
}

/**
 * A bullet (indented 3 spaces at most) starts a new list item, so a new run, when it may interrupt
 * any paragraph, or when it follows an item whose lines were all indented under it and sits left
 * of that item's content (marked's "next bullet" test).
 */
function startsNewItem(bullet: NonNullable<ReturnType<typeof bulletAt>>, openItemIndent: number | undefined): boolean {
  if (interruptsParagraph(bullet)) return true;
  return openItemIndent !== undefined && bullet.indent <= Math.min(3, openItemIndent - 1);
}

/** A top-level table marked will accept: a `|` header at column 0, then a matching delimiter row. */
function isTableHeader(line: string, next: string | undefined): boolean {
  if (line[0] !== '|' || next === undefined) return false;
  const columns = strictDelimiterRowColumns(next);
  return columns > 0 && columns === headerCellCount(line);
}

/** Where a line's content starts after leading whitespace and `>` only (bullets kept). */
function quoteContentStart(line: string): number {
  let i = 0;
  while (line[i] === ' ' || line[i] === '\t' || line[i] === '>') i++;
  return i;
}

/**
 * The caps `markdown` is over, each as a CapViolation under `path` (the field's path from the
 * request body's root). Empty when the document is within every cap.
 *
 * @example
 * markdownCapViolations('>'.repeat(5000) + ' deep')
 * // [{ path: ['input', 'markdown'], limit: 32, actual: 5000, message: 'line 1 nests 5000 …' }]
 */
export function markdownCapViolations(markdown: string, path: (string | number)[] = ['input', 'markdown']): CapViolation[] {
  if (markdown.length > MAX_MARKDOWN_CHARS) {
    // Nothing else is worth scanning (or affordable to scan) in an oversized document.
    return [
      {
        path,
        limit: MAX_MARKDOWN_CHARS,
        actual: markdown.length,
        message: `markdown is ${markdown.length} characters; at most ${MAX_MARKDOWN_CHARS}`,
      },
    ];
  }
  const m = measureMarkdown(markdown);
  const violations: CapViolation[] = [];
  const over = (actual: number, limit: number, message: string) => {
    if (actual > limit) violations.push({ path, limit, actual, message });
  };
  over(
    m.nesting.value,
    MAX_MARKDOWN_NESTING,
    `line ${m.nesting.line} nests ${m.nesting.value} blockquotes or list items; at most ${MAX_MARKDOWN_NESTING}`,
  );
  over(
    m.tableColumns.value,
    MAX_TABLE_COLUMNS,
    `line ${m.tableColumns.line}: a table with ${m.tableColumns.value} columns; at most ${MAX_TABLE_COLUMNS}`,
  );
  over(
    m.tableCells,
    MAX_TABLE_CELLS,
    `the tables have up to ${m.tableCells} cells in all (columns × rows, short rows padded); at most ${MAX_TABLE_CELLS}`,
  );
  over(
    m.emphasisMarkers.value,
    MAX_EMPHASIS_MARKERS_PER_PARAGRAPH,
    `line ${m.emphasisMarkers.line}: a paragraph, list item or table row with ${m.emphasisMarkers.value} emphasis ` +
      `markers (*, _ or ~ touching text); at most ${MAX_EMPHASIS_MARKERS_PER_PARAGRAPH}. ` +
      'Start a new paragraph with a blank line, or put code in a ``` block',
  );
  over(
    m.wordMarkers.value,
    MAX_MARKERS_PER_WORD,
    `line ${m.wordMarkers.line}: a word with ${m.wordMarkers.value} of * _ ~ \` ! [ or "http"; ` +
      `at most ${MAX_MARKERS_PER_WORD}. Add spaces, or put code in a \`\`\` block`,
  );
  return violations;
}

/**
 * Throws a 400 `validation_failed` (details: the CapViolations) when `markdown` is over a cap.
 * Call before marked sees the text: at submit (preflight, assetRefs) and again at render, since a
 * job may have been queued before the caps existed.
 */
export function assertMarkdownWithinCaps(markdown: string, path?: (string | number)[]): void {
  const violations = markdownCapViolations(markdown, path);
  if (violations.length > 0) throw capsExceeded(violations);
}
