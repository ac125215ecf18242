/**
 * Counts the rows of a CSV, TSV or JSON data file while it streams in, so that a file with too
 * many rows is refused as soon as it passes the cap rather than after it has been read and parsed
 * whole. The count follows the parsers Vega uses (d3-dsv: a quote opens a quoted field only at the
 * start of a field, `""` inside one is a quote, line breaks inside one are data; JSON: the elements
 * of the top-level array). Bytes are scanned, not characters: no byte of a multi-byte UTF-8
 * character is ASCII, so the delimiters, quotes and brackets are found exactly.
 */
export function createRowCounter(
  format: 'csv' | 'tsv' | 'json',
  /** Stop counting once past this many rows: the caller refuses the file there. */
  limit = Infinity,
): { push(chunk: Uint8Array): number; rows(): number } {
  return format === 'json' ? jsonArrayCounter(limit) : delimitedCounter(format === 'csv' ? COMMA : TAB, limit);
}

const COMMA = 0x2c;
const TAB = 0x09;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const IN_FIELD = 1;
const IN_QUOTES = 2;
const QUOTE_SEEN = 3;

function delimitedCounter(delimiter: number, limit: number) {
  let state = FIELD_START;
  let records = 0;
  let recordOpen = false; // bytes seen since the last record ended
  let afterCR = false; // a CR ended a record; an LF right after it belongs to it
  const rows = () => Math.max(0, records + (recordOpen ? 1 : 0) - 1); // the first record is the header
  return {
    push(chunk: Uint8Array): number {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (afterCR) {
          afterCR = false;
          if (c === LF) continue;
        }
        if (state === IN_QUOTES) {
          if (c === QUOTE) state = QUOTE_SEEN;
          continue;
        }
        if (c === LF || c === CR) {
          records++;
          recordOpen = false;
          state = FIELD_START;
          afterCR = c === CR;
          if (records - 1 > limit) break;
          continue;
        }
        recordOpen = true;
        if (c === delimiter) state = FIELD_START;
        else if (state === QUOTE_SEEN) state = c === QUOTE ? IN_QUOTES : IN_FIELD;
        else if (state === FIELD_START) state = c === QUOTE ? IN_QUOTES : IN_FIELD;
      }
      return rows();
    },
    rows,
  };
}

function jsonArrayCounter(limit: number) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let commas = 0;
  let element = false; // the top-level array has at least one element
  let array = false; // the top level is an array
  const rows = () => (array && element ? commas + 1 : 0);
  return {
    push(chunk: Uint8Array): number {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === QUOTE) inString = false;
          continue;
        }
        if (c === 0x20 || c === LF || c === CR || c === TAB) continue;
        if (depth === 0) array ||= c === 0x5b;
        else if (depth === 1 && c === COMMA && ++commas >= limit) break;
        else if (depth === 1 && c !== 0x5d) element = true;
        if (c === QUOTE) inString = true;
        else if (c === 0x5b || c === 0x7b) depth++;
        else if (c === 0x5d || c === 0x7d) depth--;
      }
      return rows();
    },
    rows,
  };
}
