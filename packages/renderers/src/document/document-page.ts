import { DEFAULT_FONT_FAMILY } from '../fonts.js';
import { escapeHtml } from './markdown-to-html.js';

/**
 * Nothing in the page may load anything: images are data: URIs, styles are inline. The policy is
 * the in-page wall; the browser context (offline, every request aborted, JavaScript off) is the
 * outer one.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:";

const STYLES = `
:root { color-scheme: light; }
html { font-family: '${DEFAULT_FONT_FAMILY}', 'Helvetica Neue', Arial, sans-serif; font-size: 10.5pt; line-height: 1.5; color: #1f2328; }
body { margin: 0; }
@media screen { body { max-width: 46rem; margin: 2.5rem auto; padding: 0 1.25rem; } }
/* Long words and URLs wrap instead of running off the page. */
p, li, td, th, blockquote, h1, h2, h3, h4, h5, h6 { overflow-wrap: anywhere; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.4em 0 0.5em; break-after: avoid; }
h1 { font-size: 2em; border-bottom: 1px solid #d1d9e0; padding-bottom: 0.25em; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: 0.2em; }
h3 { font-size: 1.25em; }
h4 { font-size: 1em; }
h5, h6 { font-size: 0.9em; color: #59636e; }
body > :first-child { margin-top: 0; }
p, ul, ol, table, pre, blockquote { margin: 0 0 0.9em; }
ul, ol { padding-left: 1.8em; }
li + li { margin-top: 0.2em; }
li > ul, li > ol { margin-bottom: 0; }
a { color: #0969da; text-decoration: none; }
blockquote { margin-left: 0; padding: 0 1em; color: #59636e; border-left: 0.25em solid #d1d9e0; }
code, pre { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 0.88em; }
:not(pre) > code { background: #eff1f3; border-radius: 4px; padding: 0.1em 0.35em; }
/* Code wraps in print: a PDF cannot scroll sideways. */
pre { background: #f6f8fa; border-radius: 6px; padding: 0.8em 1em; white-space: pre-wrap; overflow-wrap: anywhere; }
pre code { background: none; padding: 0; font-size: 1em; }
pre.raw-html { background: #fff8c5; }
table { border-collapse: collapse; width: auto; max-width: 100%; }
th, td { border: 1px solid #d1d9e0; padding: 0.35em 0.75em; vertical-align: top; }
th { background: #f6f8fa; font-weight: bold; }
tr:nth-child(2n) td { background: #fafbfc; }
/* A table that spans pages repeats its header; rows and figures are not split. */
thead { display: table-header-group; }
tr, img, pre, blockquote { break-inside: avoid; }
img { max-width: 100%; max-height: 90vh; height: auto; } /* a tall image fits on one page */
hr { border: 0; border-top: 1px solid #d1d9e0; margin: 1.5em 0; }
input[type=checkbox] { margin: 0 0.4em 0 0; vertical-align: middle; }
.missing-image { color: #cf222e; }
/* \pagebreak and <!-- pagebreak -->: a forced page break in print (the PDF), a dashed rule on screen.
   What follows starts at the top of its page; a break at the very end adds no empty page. */
.page-break { break-after: page; }
.page-break + * { margin-top: 0; }
.page-break:last-child { break-after: auto; }
@media screen { .page-break { border-top: 1px dashed #afb8c1; margin: 2em 0; } }
`;

export function documentPageHtml(options: { title: string; author?: string; bodyHtml: string }): string {
  const author = options.author ? `<meta name="author" content="${escapeHtml(options.author)}">\n` : '';
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">\n` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<meta name="generator" content="Kiln">\n${author}` +
    `<title>${escapeHtml(options.title)}</title>\n<style>${STYLES}</style>\n</head>\n` +
    `<body>\n${options.bodyHtml}</body>\n</html>\n`
  );
}

/** The footer Chromium draws in every page's bottom margin (its own tiny document, styled inline). */
export function pageNumberFooterHtml(): string {
  return (
    `<div style="width:100%;font-family:'${DEFAULT_FONT_FAMILY}',sans-serif;font-size:8pt;color:#59636e;text-align:center;">` +
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
  );
}
