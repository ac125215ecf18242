import { z } from 'zod';
import { about } from './about.js';

export const DOCUMENT_FORMATS = ['pdf', 'html'] as const;
export const PAGE_SIZES = ['A4', 'Letter'] as const;

const marginMm = z.number().min(0).max(80);

/** The space the footer's page number needs below the text, in millimetres. */
export const MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM = 12;

/*
 * Caps on the Markdown, refused at submit (400 validation_failed, one CapViolation per cap). Each
 * bounds a cost measured on a two-core machine. Chromium's work grows with the blocks it lays out:
 * 100,000 characters of typical Markdown print as ~86 pages in ~3 s, of one-word paragraphs as
 * 1,150 pages in ~90 s (2,000,000 characters, the old limit, would take about half an hour); 20,000
 * table cells take 13–22 s. marked's inline parser is quadratic in the emphasis delimiters of one
 * paragraph and in the markers of one word, and recurses once per nesting level. Within these caps
 * the worst documents found parse in under half a second of CPU.
 */
/** Characters (UTF-16 code units) of `markdown`. */
export const MAX_MARKDOWN_CHARS = 100_000;
/** Blockquotes and list items nested inside each other (marked recurses once per level). */
export const MAX_MARKDOWN_NESTING = 32;
/** Columns of one table (the cells of its delimiter row). */
export const MAX_TABLE_COLUMNS = 64;
/** Cells of all tables together, columns × rows: short rows are padded to the header's width. */
export const MAX_TABLE_CELLS = 20_000;
/**
 * `*`, `_` and `~` characters that touch text (not space on both sides, not `_` inside a word) in
 * one paragraph, list item, table row or heading: each can open emphasis, and marked scans the
 * rest of the paragraph from every opener it cannot close.
 */
export const MAX_EMPHASIS_MARKERS_PER_PARAGRAPH = 32;
/**
 * `*`, `_`, `~`, `` ` ``, `!` and `[` characters and `http` in one word (a run of characters
 * without spaces): marked restarts its text scan at each and re-reads the rest of the word.
 */
export const MAX_MARKERS_PER_WORD = 64;

const MARKDOWN_DESCRIPTION =
  'GitHub-flavoured Markdown (tables, fenced code, task lists). Images are assets of your company: ' +
  '![alt](asset:<asset id>). Raw HTML is shown as text, never interpreted. A line holding only \\pagebreak ' +
  'or <!-- pagebreak --> starts a new page. Limits: ' +
  `${MAX_MARKDOWN_CHARS} characters; ${MAX_MARKDOWN_NESTING} nested quotes/lists; ` +
  `${MAX_TABLE_COLUMNS} columns per table and ${MAX_TABLE_CELLS} table cells in all; ` +
  `${MAX_EMPHASIS_MARKERS_PER_PARAGRAPH} emphasis markers (*, _, ~ touching text) per paragraph, list item, table row or heading; ` +
  `${MAX_MARKERS_PER_WORD} of * _ ~ \` ! [ or "http" in one word (outside fenced code).`;

/**
 * `document`: Markdown (GitHub flavour: tables, fenced code, task lists) to PDF or a self-contained
 * HTML file. Images must be assets of the same company, written `![alt](asset:<uuid>)`; raw HTML
 * in the Markdown is shown as text, never interpreted. The caps above that a schema cannot say
 * (nesting, tables, markers) are checked by the renderer's preflight.
 */
export const documentInputSchema = z
  .object({
    markdown: about(z.string().min(1).max(MAX_MARKDOWN_CHARS), 'Markdown', MARKDOWN_DESCRIPTION),
    format: about(z.enum(DOCUMENT_FORMATS).default('pdf'), 'Format', 'pdf, or html (one self-contained file).'),
    pageSize: about(z.enum(PAGE_SIZES).default('A4'), 'Page size', 'A4 or Letter (PDF).'),
    orientation: about(z.enum(['portrait', 'landscape']).default('portrait'), 'Orientation', 'portrait or landscape (PDF).'),
    margins: about(
      z
        .object({
          top: about(marginMm.default(20), 'Top', 'Top margin in millimetres (0–80).'),
          right: about(marginMm.default(18), 'Right', 'Right margin in millimetres (0–80).'),
          bottom: about(marginMm.default(20), 'Bottom', `Bottom margin in millimetres (0–80; at least ${MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM} with page numbers).`),
          left: about(marginMm.default(18), 'Left', 'Left margin in millimetres (0–80).'),
        })
        .strict()
        .default({ top: 20, right: 18, bottom: 20, left: 18 }),
      'Margins',
      'Page margins in millimetres (PDF).',
    ),
    title: about(z.string().trim().min(1).max(500).optional(), 'Title', 'PDF title and HTML <title>; default: the first level-1 heading.'),
    author: about(z.string().trim().min(1).max(500).optional(), 'Author', 'PDF author metadata.'),
    pageNumbers: about(z.boolean().default(true), 'Page numbers', '"n / total" centred in the footer of every PDF page.'),
  })
  .strict()
  .refine((d) => !d.pageNumbers || d.margins.bottom >= MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM, {
    path: ['margins', 'bottom'],
    message: `Page numbers need a bottom margin of at least ${MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM} mm; raise it or set pageNumbers to false.`,
  });
export type DocumentInput = z.infer<typeof documentInputSchema>;
