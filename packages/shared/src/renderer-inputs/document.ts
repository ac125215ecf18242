import { z } from 'zod';

export const DOCUMENT_FORMATS = ['pdf', 'html'] as const;
export const PAGE_SIZES = ['A4', 'Letter'] as const;

const marginMm = z.number().min(0).max(80);

/** The space the footer's page number needs below the text, in millimetres. */
export const MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM = 12;

/**
 * `document`: Markdown (GitHub flavour: tables, fenced code, task lists) to PDF or a self-contained
 * HTML file. Images must be assets of the same company, written `![alt](asset:<uuid>)`; raw HTML
 * in the Markdown is shown as text, never interpreted.
 */
export const documentInputSchema = z
  .object({
    markdown: z.string().min(1).max(2_000_000),
    format: z.enum(DOCUMENT_FORMATS).default('pdf'),
    pageSize: z.enum(PAGE_SIZES).default('A4'),
    orientation: z.enum(['portrait', 'landscape']).default('portrait'),
    /** Page margins in millimetres. */
    margins: z
      .object({
        top: marginMm.default(20),
        right: marginMm.default(18),
        bottom: marginMm.default(20),
        left: marginMm.default(18),
      })
      .strict()
      .default({ top: 20, right: 18, bottom: 20, left: 18 }),
    /** PDF title and HTML `<title>`; by default the first level-1 heading. */
    title: z.string().trim().min(1).max(500).optional(),
    author: z.string().trim().min(1).max(500).optional(),
    /** "n / total" centred in the footer of every PDF page. */
    pageNumbers: z.boolean().default(true),
  })
  .strict()
  .refine((d) => !d.pageNumbers || d.margins.bottom >= MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM, {
    path: ['margins', 'bottom'],
    message: `Page numbers need a bottom margin of at least ${MIN_BOTTOM_MARGIN_WITH_PAGE_NUMBERS_MM} mm; raise it or set pageNumbers to false.`,
  });
export type DocumentInput = z.infer<typeof documentInputSchema>;
