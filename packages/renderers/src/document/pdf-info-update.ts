import { open, type FileHandle } from 'node:fs/promises';

/**
 * Chromium's PDFs carry only a title (from `<title>`), no author. Rewriting the file with a PDF
 * library to add one would load the whole document into memory and re-serialise every object;
 * instead Kiln appends an *incremental update* (PDF 1.7, §7.5.6) — a new Info dictionary, a
 * one-entry cross-reference section and a trailer pointing back at the original — which every
 * reader applies, while the original bytes stream through untouched. The same walk of the
 * trailer → catalog → page tree yields the page count.
 *
 * Only what Chromium (Skia) writes is supported: a classic `xref` table with a `trailer`. A PDF
 * with a cross-reference stream is rejected rather than guessed at.
 */
export interface PdfInfo {
  title?: string;
  author?: string;
  subject?: string;
  creator?: string;
}

export interface PdfFacts {
  pageCount: number;
  /** The bytes to append to the file. */
  update: Buffer;
}

export async function preparePdfInfoUpdate(file: string, info: PdfInfo, now = new Date()): Promise<PdfFacts> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tail = await readAt(handle, Math.max(0, size - 2048), Math.min(size, 2048));
    const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail.toString('latin1'))?.[1]);
    if (!Number.isFinite(startxref) || startxref <= 0 || startxref >= size) throw new Error('PDF has no startxref');

    const xrefSection = (await readAt(handle, startxref, size - startxref)).toString('latin1');
    const { offsets, trailer } = parseXrefSection(xrefSection);

    const rootRef = refIn(trailer, 'Root');
    const root = await readObject(handle, offsets, rootRef);
    const pages = await readObject(handle, offsets, refIn(root, 'Pages'));
    const pageCount = Number(/\/Count\s+(\d+)/.exec(pages)?.[1]);
    if (!Number.isInteger(pageCount)) throw new Error('PDF page tree has no /Count');

    // Keep what Chromium recorded about itself and when the PDF was made.
    const oldInfoRef = /\/Info\s+(\d+)\s+(\d+)\s+R/.exec(trailer);
    const oldInfo = oldInfoRef ? await readObject(handle, offsets, [Number(oldInfoRef[1]), Number(oldInfoRef[2])]) : '';
    const producer = literalIn(oldInfo, 'Producer');
    const created = literalIn(oldInfo, 'CreationDate') ?? pdfDate(now);

    const sizeEntry = Number(/\/Size\s+(\d+)/.exec(trailer)?.[1]);
    if (!Number.isInteger(sizeEntry)) throw new Error('PDF trailer has no /Size');
    const infoNumber = sizeEntry;
    const id = /\/ID\s*(\[[^\]]*\])/.exec(trailer)?.[1];

    const fields = [
      info.title ? `/Title ${pdfText(info.title)}` : undefined,
      info.author ? `/Author ${pdfText(info.author)}` : undefined,
      info.subject ? `/Subject ${pdfText(info.subject)}` : undefined,
      info.creator ? `/Creator ${pdfText(info.creator)}` : undefined,
      producer ? `/Producer ${producer}` : undefined,
      `/CreationDate ${created}`,
      `/ModDate ${pdfDate(now)}`,
    ].filter(Boolean);

    // The original may not end in a newline; the new objects must start on a line of their own.
    const lead = (await readAt(handle, size - 1, 1)).toString('latin1') === '\n' ? '' : '\n';
    const infoOffset = size + lead.length;
    const infoObject = `${infoNumber} 0 obj\n<<${fields.join('\n')}>>\nendobj\n`;
    const xrefOffset = infoOffset + Buffer.byteLength(infoObject, 'latin1');
    const update =
      lead +
      infoObject +
      `xref\n${infoNumber} 1\n${String(infoOffset).padStart(10, '0')} 00000 n\r\n` +
      `trailer\n<</Size ${infoNumber + 1}\n/Root ${rootRef[0]} ${rootRef[1]} R\n/Info ${infoNumber} 0 R\n/Prev ${startxref}` +
      (id ? `\n/ID ${id}` : '') +
      `>>\nstartxref\n${xrefOffset}\n%%EOF\n`;
    return { pageCount, update: Buffer.from(update, 'latin1') };
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

type Ref = [number, number];

function parseXrefSection(text: string): { offsets: Map<number, number>; trailer: string } {
  if (!text.startsWith('xref')) throw new Error('PDF uses a cross-reference stream, which is not supported');
  const offsets = new Map<number, number>();
  let at = 4;
  const header = /\s*(\d+)\s+(\d+)[ \t]*\r?\n/y;
  for (;;) {
    header.lastIndex = at;
    const match = header.exec(text);
    if (!match) break;
    const first = Number(match[1]);
    const count = Number(match[2]);
    at = header.lastIndex;
    for (let i = 0; i < count; i++, at += 20) {
      const entry = text.slice(at, at + 20);
      if (entry[17] === 'n') offsets.set(first + i, Number(entry.slice(0, 10)));
    }
  }
  const trailerAt = text.indexOf('trailer', at);
  const end = text.indexOf('startxref', trailerAt);
  if (trailerAt < 0 || end < 0) throw new Error('PDF has no trailer');
  return { offsets, trailer: text.slice(trailerAt, end) };
}

function refIn(dictionary: string, key: string): Ref {
  const match = new RegExp(`/${key}\\s+(\\d+)\\s+(\\d+)\\s+R`).exec(dictionary);
  if (!match) throw new Error(`PDF object has no /${key} reference`);
  return [Number(match[1]), Number(match[2])];
}

/** The dictionary text of an indirect object (up to `endobj`, or the first 64 KiB). */
async function readObject(handle: FileHandle, offsets: Map<number, number>, [number, generation]: Ref): Promise<string> {
  const offset = offsets.get(number);
  if (offset === undefined) throw new Error(`PDF object ${number} is not in the cross-reference table`);
  const text = (await readAt(handle, offset, 64 * 1024)).toString('latin1');
  if (!text.startsWith(`${number} ${generation} obj`)) throw new Error(`PDF object ${number} is not where the table says`);
  const end = text.indexOf('endobj');
  return end < 0 ? text : text.slice(0, end);
}

/** A literal string value `( … )` of `key`, verbatim, balanced parentheses and escapes respected. */
function literalIn(dictionary: string, key: string): string | undefined {
  const start = dictionary.search(new RegExp(`/${key}\\s*\\(`));
  if (start < 0) return undefined;
  let i = dictionary.indexOf('(', start);
  const from = i;
  let depth = 0;
  for (; i < dictionary.length; i++) {
    const c = dictionary[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return dictionary.slice(from, i + 1);
  }
  return undefined;
}

/** Any Unicode text as a PDF text string: UTF-16BE with a byte-order mark, hex-encoded. */
function pdfText(text: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0').toUpperCase();
  return `<${hex}>`;
}

function pdfDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `(D:${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}+00'00')`
  );
}
