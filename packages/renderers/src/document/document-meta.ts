import { documentInputSchema, type DocumentInput } from '@kiln/shared';
import type { RendererMeta } from '../lazy-renderer.js';

const EXAMPLE: DocumentInput = {
  markdown: [
    '# Quarterly report',
    '',
    'Kiln turned **12,400** requests into files this quarter, *twice* the last one.',
    '',
    '## Highlights',
    '',
    '- Charts and documents shipped',
    '- Median render time fell to 0.4 s',
    '',
    '| Kind | Jobs | Share |',
    '| --- | ---: | ---: |',
    '| image | 7,100 | 57 % |',
    '| chart | 3,300 | 27 % |',
    '| document | 2,000 | 16 % |',
    '',
    '> Everything ran on one two-core machine.',
    '',
    '```ts',
    "const job = await kiln.render('document', { markdown });",
    '```',
    '',
    'More at [the docs](https://example.com/docs).',
  ].join('\n'),
  format: 'pdf',
  pageSize: 'A4',
  orientation: 'portrait',
  margins: { top: 20, right: 18, bottom: 20, left: 18 },
  title: 'Quarterly report',
  author: 'Kiln',
  pageNumbers: true,
};

/** What the `document` kind is, without what it takes to render it (loaded only when a render needs it). */
export const documentMeta: RendererMeta<DocumentInput> = {
  kind: 'document',
  description:
    'PDF (A4 or Letter, page numbers, title/author metadata, outline) or self-contained HTML from Markdown with ' +
      'tables, code, quotes, images from your assets (![alt](asset:<id>)) and page breaks (\\pagebreak on a line of its own), ' +
      'with a PNG preview of the first page.',
  inputSchema: documentInputSchema,
  example: EXAMPLE,
};
