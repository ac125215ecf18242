import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Marked, type Token, type Tokens } from 'marked';
import {
  MAX_EMPHASIS_MARKERS_PER_PARAGRAPH,
  MAX_MARKDOWN_CHARS,
  MAX_MARKDOWN_NESTING,
  MAX_MARKERS_PER_WORD,
  MAX_TABLE_CELLS,
  MAX_TABLE_COLUMNS,
} from '@kiln/shared';
import { markdownCapViolations, measureMarkdown } from '../src/document/markdown-caps.js';
import { emphasisMarkers, mostMarkersInAWord } from '../src/document/markdown-line-shapes.js';
import { createDocumentRenderer } from '../src/document/document-renderer.js';
import { useRenderRuns } from './support/render-runs.js';

const { newRun } = useRenderRuns();
const renderer = createDocumentRenderer();
afterAll(() => renderer.close());
afterEach(() => vi.restoreAllMocks());

const MARKDOWN = ['input', 'markdown'];
const capsOf = (markdown: string) => markdownCapViolations(markdown).map(({ limit, actual }) => ({ limit, actual }));

/** `n` emphasis markers that can never pair up: each `*` opens after a quote and nothing closes it. */
const unclosedStars = (n: number) => '"*a'.repeat(n);
/** A table `columns` wide with `rows` one-cell body rows (marked pads each to the header's width). */
const table = (columns: number, rows: number) =>
  `${'| h '.repeat(columns)}|\n${'|---'.repeat(columns)}|\n${'x\n'.repeat(rows)}`;

describe('markdown caps', () => {
  it('refuses the inputs that froze or crashed marked, with the cap and the amount in the details', () => {
    // `*a` × 110,000 took 14–16 s; at the size cap it is refused for its markers as well.
    expect(markdownCapViolations('*a'.repeat(110_000))).toEqual([
      { path: MARKDOWN, limit: MAX_MARKDOWN_CHARS, actual: 220_000, message: expect.stringContaining('220000 characters') },
    ]);
    expect(capsOf('*a'.repeat(49_000))).toEqual([
      { limit: MAX_EMPHASIS_MARKERS_PER_PARAGRAPH, actual: 49_000 },
      { limit: MAX_MARKERS_PER_WORD, actual: 49_000 },
    ]);
    // `>` × 5,000 overflowed marked's stack.
    expect(markdownCapViolations(`${'>'.repeat(5000)} deep`)).toEqual([
      { path: MARKDOWN, limit: MAX_MARKDOWN_NESTING, actual: 5000, message: 'line 1 nests 5000 blockquotes or list items; at most 32' },
    ]);
    // A 20,000-column table (100,000 columns no longer fits in the size cap).
    expect(capsOf(`${'|a'.repeat(20_000)}|\n${'|-'.repeat(20_000)}|\nx`)).toEqual([
      { limit: MAX_TABLE_COLUMNS, actual: 20_000 },
      { limit: MAX_TABLE_CELLS, actual: 40_000 },
    ]);
    // 24 kB that marked padded into 10 million cells (100 MB of HTML).
    expect(capsOf(table(1000, 10_000))).toEqual([
      { limit: MAX_TABLE_COLUMNS, actual: 1000 },
      { limit: MAX_TABLE_CELLS, actual: 1000 * 10_001 },
    ]);
  });

  it('accepts each cap exactly and refuses one more', () => {
    const pairs: [string, string, number][] = [
      ['a'.repeat(MAX_MARKDOWN_CHARS), 'a'.repeat(MAX_MARKDOWN_CHARS + 1), MAX_MARKDOWN_CHARS],
      [`${'> '.repeat(32)}a`, `${'> '.repeat(33)}a`, MAX_MARKDOWN_NESTING],
      [
        Array.from({ length: 32 }, (_, i) => `${'  '.repeat(i)}- level ${i + 1}`).join('\n'),
        Array.from({ length: 33 }, (_, i) => `${'  '.repeat(i)}- level ${i + 1}`).join('\n'),
        MAX_MARKDOWN_NESTING,
      ],
      [table(64, 1), table(65, 1), MAX_TABLE_COLUMNS],
      [table(10, 1999), table(10, 2000), MAX_TABLE_CELLS],
      [unclosedStars(32), unclosedStars(33), MAX_EMPHASIS_MARKERS_PER_PARAGRAPH],
      [`${'!a'.repeat(64)} b`, `${'!a'.repeat(65)} b`, MAX_MARKERS_PER_WORD],
      [`see ${'http'.repeat(64)}`, `see ${'http'.repeat(65)}`, MAX_MARKERS_PER_WORD],
    ];
    for (const [under, over, limit] of pairs) {
      expect(markdownCapViolations(under), under.slice(0, 40)).toEqual([]);
      expect(markdownCapViolations(over), over.slice(0, 40)).toEqual([expect.objectContaining({ path: MARKDOWN, limit })]);
    }
  });

  it('counts emphasis per paragraph, list item and table row, and skips fenced code', () => {
    const bold = (i: number) => `**term ${i}** and *detail*`; // 6 markers
    // Forty bold list items, a long table of bold cells, many paragraphs: each run is small.
    const list = Array.from({ length: 40 }, (_, i) => `${i + 1}. ${bold(i)}`).join('\n');
    const rows = `| a | b |\n|---|---|\n${Array.from({ length: 200 }, (_, i) => `| ${bold(i)} | *x* |`).join('\n')}`;
    const paragraphs = Array.from({ length: 200 }, (_, i) => bold(i)).join('\n\n');
    const code = `\`\`\`python\n${'def f(*args, **kwargs): return __x__ * ~y\n'.repeat(100)}\`\`\``;
    for (const markdown of [list, rows, paragraphs, code, `Intro\n\n${code}\n\n${list}\n\n${rows}`]) {
      expect(markdownCapViolations(markdown)).toEqual([]);
    }
    // The same lines as one paragraph (no blank lines, no bullets) are one run for marked.
    expect(capsOf(Array.from({ length: 40 }, (_, i) => bold(i)).join('\n'))).toEqual([
      { limit: MAX_EMPHASIS_MARKERS_PER_PARAGRAPH, actual: 240 },
    ]);
    // Snake_case, spaced asterisks and blank-line underscores are not emphasis.
    expect(measureMarkdown('a_long_snake_case_name and 2 * 3 * 4 and Name: ________').emphasisMarkers.value).toBe(0);
  });

  it('never undercounts what marked meets, even in documents built to fool a line scanner', () => {
    const P = '*a'.repeat(20); // 40 markers in one line
    const row = `|${'*a*'.repeat(4)}|`;
    const fooling = [
      `<!--\n\`\`\`\n-->\n${P}\n\`\`\``, // an HTML comment swallows the fence line
      `<div>\n\`\`\`\n\n${P}\n\`\`\``,
      `[a]: /u "\n\`\`\`\n"\n${P}\n\`\`\``, // a definition's title does
      `[a\n\`\`\`\nb]: /u\n${P}\n\`\`\``, // and its label
      `- \`\`\`\n  x\n  \`\`\`\n  ${P}\n  \`\`\``, // a fence opened after a bullet
      `- a\n\n  \`\`\`\n${P}\n  \`\`\``, // a fence in a list item ends with the item
      `1. a\n\n   \`\`\`\n   x\n      \`\`\`\n   ${P}\n   \`\`\``, // closed by a line indented for the item
      `|a|b|\n|-|\n${`${row}\n`.repeat(6)}`, // header and delimiter disagree: no table
      `x\n|a|\n|-|\n${`${row}\n`.repeat(6)}`,
      `- a\n${`  2. ${P.slice(0, 16)}\n`.repeat(3)}`, // "2." cannot interrupt a list item's text
      `- # h\nfoo\n${`2. ${P.slice(0, 16)}\n`.repeat(3)}`,
      `x\n${`    - ${P.slice(0, 16)}\n`.repeat(3)}`, // indented bullets continue the paragraph
      `> - - *c*\n    - a\n      - b`, // a lazy line nests inside the quote before it
    ];
    for (const markdown of fooling) expectBounds(markdown);
  });

  it('bounds marked on random documents of tricky lines (seeded)', () => {
    const prefixes = ['', '', '', ' ', '   ', '    ', '\t', '> ', '>', '> > ', '- ', '* ', '1. ', '2. ', '3) ', '  - ', '  2. ', '   1. ', '> - ', '- > ', '- - ', '        - '];
    const bodies = ['*a*a*a*a*a*a*a*a', '|*a*a*a*a*a*a|', '_a_a_a_a_a_a_a_a_', '```', '````', '~~~', '<div>', '<!--', '-->', '<!-- pagebreak -->', '[a]: /u "t', '"', '[a', 'b]: /u', '|a|b|', '|-|-|', '-|-', '---', '***', '# h *e*', 'x *e* **s** _u_ ~~d~~ `c`', '\\pagebreak', '[l](http://x)', '*a', 'b*', '2. *b*', '', ''];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
    for (let n = 0; n < 1500; n++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 16) }, () =>
        random() < 0.15 ? '' : pick(prefixes) + pick(bodies) + (random() < 0.3 ? ` ${pick(bodies)}` : ''),
      );
      expectBounds(lines.join('\n'));
    }
  }, 60_000);

  it('is refused by preflight, assetRefs and render before marked parses anything', async () => {
    const lexer = vi.spyOn(Marked.prototype, 'lexer');
    for (const markdown of [`${'>'.repeat(5000)} a`, unclosedStars(20_000), table(100, 3)]) {
      const input = renderer.inputSchema.parse({ markdown });
      const refusal = { code: 'validation_failed', options: { details: markdownCapViolations(markdown) } };
      expect(refusal.options.details.length).toBeGreaterThan(0);
      expect(() => renderer.preflight!(input)).toThrow(expect.objectContaining(refusal));
      expect(() => renderer.assetRefs!(input)).toThrow(expect.objectContaining(refusal));
      const run = await newRun();
      await expect(renderer.render(input, run.ctx)).rejects.toMatchObject(refusal);
      expect(run.outputs).toHaveLength(0);
    }
    expect(lexer).not.toHaveBeenCalled();
    renderer.preflight!(renderer.inputSchema.parse({ markdown: '# Within the caps' }));
    expect(lexer).toHaveBeenCalledTimes(1); // the spy does see marked at work
    // The schema says the size cap itself (published as maxLength).
    expect(renderer.inputSchema.safeParse({ markdown: 'a'.repeat(MAX_MARKDOWN_CHARS + 1) }).success).toBe(false);
  });

  it('lets the worst documents within the caps through to a parse that completes', () => {
    const fill = (unit: string, sep: string) => `${unit}${sep}`.repeat(Math.floor(MAX_MARKDOWN_CHARS / (unit.length + sep.length)));
    const worst = [
      fill(unclosedStars(32), '\n\n'), // every opener scans its whole paragraph
      fill(`- ${unclosedStars(32)}`, '\n'),
      fill('!a'.repeat(32), ' '), // marked re-reads the rest of the word at each marker
      fill('http'.repeat(64), ' '),
      `${'*x _x '.repeat(8)}${'`a` <b> '.repeat(12_000)}${' x_ x*'.repeat(8)}`, // 16 nested levels, each re-lexed
      fill(`${'> '.repeat(32)}a`, '\n\n'),
      fill(`${'- '.repeat(32)}a`, '\n'),
    ];
    for (const markdown of worst) {
      expect(markdownCapViolations(markdown), markdown.slice(0, 40)).toEqual([]);
      expect(() => renderer.preflight!(renderer.inputSchema.parse({ markdown }))).not.toThrow();
    }
  }, 60_000); // a parse takes ~0.1–0.3 s of CPU each; the limit only allows for a loaded machine
});

/** What marked really meets in `markdown`, measured the way the pre-scan counts. */
function markedMeasures(markdown: string) {
  let emphasis = 0;
  let word = 0;
  let nesting = 0;
  let columns = 0;
  let cells = 0;
  const run = (text: string) => {
    let markers = 0;
    for (const line of text.split('\n')) {
      markers += emphasisMarkers(line);
      word = Math.max(word, mostMarkersInAWord(line).count);
    }
    emphasis = Math.max(emphasis, markers);
  };
  const walk = (tokens: Token[], depth: number) => {
    for (const t of tokens) {
      nesting = Math.max(nesting, depth);
      if (t.type === 'paragraph' || t.type === 'heading' || (t.type === 'text' && 'tokens' in t)) run((t as Tokens.Text).text);
      else if (t.type === 'table') {
        const { header, rows } = t as Tokens.Table;
        columns = Math.max(columns, header.length);
        cells += header.length * (rows.length + 1);
        for (const cell of [...header, ...rows.flat()]) run(cell.text);
      } else if (t.type === 'blockquote') walk((t as Tokens.Blockquote).tokens, depth + 1);
      else if (t.type === 'list') for (const item of (t as Tokens.List).items) walk(item.tokens, depth + 1);
    }
  };
  walk(new Marked({ gfm: true }).lexer(markdown), 0);
  return { emphasis, word, nesting, columns, cells };
}

function expectBounds(markdown: string) {
  const real = markedMeasures(markdown);
  const scan = measureMarkdown(markdown);
  const bounds = {
    emphasis: real.emphasis <= scan.emphasisMarkers.value,
    word: real.word <= scan.wordMarkers.value,
    nesting: real.nesting <= scan.nesting.value,
    columns: real.columns <= scan.tableColumns.value,
    cells: real.cells <= scan.tableCells,
  };
  expect(bounds, JSON.stringify(markdown)).toEqual({ emphasis: true, word: true, nesting: true, columns: true, cells: true });
}
