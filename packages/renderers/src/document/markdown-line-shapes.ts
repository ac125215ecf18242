/*
 * What one line of Markdown may be, judged from that line alone with plain character scans (no
 * regular expression that could backtrack, no marked). The cap pre-scan (markdown-caps.ts) builds
 * on these. Where a shape decides that text is *not* inline content (a code fence) or where an
 * inline run ends (a list bullet, a table row), it must agree with marked exactly or err towards
 * "same run, still inline": a wrong guess the other way would let a paragraph through uncounted.
 */

/** A fence that opens fenced code: up to 3 spaces, then 3+ backticks (no backtick after) or 3+ tildes. */
export interface FenceOpener {
  char: '`' | '~';
  length: number;
  indent: number;
}

/** A list bullet at the start of a line. */
export interface Bullet {
  indent: number;
  /** The marker: `-`, `*`, `+`, or digits followed by `.` or `)`. */
  marker: string;
  /** Column where the item's content starts (CommonMark: 1–4 spaces after the marker, else 1). */
  contentIndent: number;
  /** Nothing but spaces after the marker. */
  empty: boolean;
}

const isSpaceOrTab = (c: string | undefined) => c === ' ' || c === '\t';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAsciiAlnum = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));

/** Leading spaces; `undefined` when a tab comes first (tabs make columns depend on context). */
export function spaceIndent(line: string): number | undefined {
  let i = 0;
  while (line[i] === ' ') i++;
  return line[i] === '\t' ? undefined : i;
}

/** Whitespace-only (space and tab, as marked's blank-line rules read it). */
export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!isSpaceOrTab(line[i])) return false;
  return true;
}

/**
 * The marker at `i` (`-`, `*`, `+`, `1.`, `12)`, at most 9 digits) when it is followed by a space,
 * a tab or the end of the line; its length, else 0.
 */
function markerLength(line: string, i: number): number {
  const c = line[i];
  let end = i;
  if (c === '-' || c === '*' || c === '+') end = i + 1;
  else if (isDigit(c)) {
    while (isDigit(line[end]) && end - i < 10) end++;
    if (end - i > 9 || (line[end] !== '.' && line[end] !== ')')) return 0;
    end++;
  } else return 0;
  return end === line.length || isSpaceOrTab(line[end]) ? end - i : 0;
}

/** The bullet that starts this line (indented by spaces only), if any. */
export function bulletAt(line: string): Bullet | undefined {
  const indent = spaceIndent(line);
  if (indent === undefined) return undefined;
  const length = markerLength(line, indent);
  if (length === 0) return undefined;
  const marker = line.slice(indent, indent + length);
  let after = indent + length;
  while (line[after] === ' ') after++;
  const spaces = after - indent - length;
  const empty = after === line.length;
  // A tab after the marker is left to the conservative side: content starts one column on.
  const contentIndent = indent + length + (empty || spaces === 0 || spaces > 4 ? 1 : spaces);
  return { indent, marker, contentIndent, empty };
}

/** Bullets that may interrupt a paragraph (GFM): `-`, `*`, `+`, `1.`, `1)` with content after them. */
export function interruptsParagraph(bullet: Bullet): boolean {
  return !bullet.empty && (bullet.marker.length === 1 || bullet.marker === '1.' || bullet.marker === '1)');
}

/**
 * Where the line's content starts after its container markers: leading whitespace, `>` and list
 * bullets, in any order. `quotes` counts the `>`; `lists` the bullets plus a level per two columns
 * of whitespace beyond the one space each marker takes, since a nested list item needs at least
 * two columns more than its parent. Together an upper bound of what the line opens or sits in.
 */
export function containerPrefix(line: string): { quotes: number; lists: number; contentStart: number } {
  let i = 0;
  let quotes = 0;
  let bullets = 0;
  let columns = 0;
  for (;;) {
    while (isSpaceOrTab(line[i])) columns += line[i++] === '\t' ? 4 : 1;
    if (line[i] === '>') {
      quotes++;
      i++;
      if (line[i] === ' ') i++;
      continue;
    }
    const length = markerLength(line, i);
    if (length === 0) break;
    bullets++;
    i += length;
    if (line[i] === ' ') i++;
  }
  return { quotes, lists: bullets + Math.floor(columns / 2), contentStart: i };
}

/** An opening code fence exactly as marked reads one: ` {0,3}` then ``` (no ` after) or ~~~. */
export function fenceOpener(line: string): FenceOpener | undefined {
  const indent = spaceIndent(line);
  if (indent === undefined || indent > 3) return undefined;
  const char = line[indent];
  if (char !== '`' && char !== '~') return undefined;
  let end = indent;
  while (line[end] === char) end++;
  if (end - indent < 3) return undefined;
  if (char === '`' && line.indexOf('`', end) !== -1) return undefined;
  return { char, length: end - indent, indent };
}

/** A line that closes `fence`: ` {0,3}`, at least as many of the same character, then only spaces. */
export function closesFence(line: string, fence: FenceOpener): boolean {
  const indent = spaceIndent(line);
  if (indent === undefined || indent > 3) return false;
  let end = indent;
  while (line[end] === fence.char) end++;
  if (end - indent < fence.length) return false;
  while (line[end] === ' ') end++;
  return end === line.length;
}

/** ``` or ~~~ after any container prefix: something that might be a fence somewhere. */
export function looksLikeFence(line: string): boolean {
  const start = containerPrefix(line).contentStart;
  return line.startsWith('```', start) || line.startsWith('~~~', start);
}

/**
 * A line that may start HTML or a link reference definition, both of which marked can stretch
 * over many following lines (an HTML block to its end marker or a blank line, a definition's
 * label or quoted title across lines). Those lines are raw for marked but look ordinary here, so
 * after one of these the pre-scan stops trusting its own view of fences and tables.
 * A comment that closes on its own line (`<!-- pagebreak -->`) ends there and is harmless.
 */
export function mayOpenMultiLineRaw(line: string): boolean {
  const start = containerPrefix(line).contentStart;
  if (line[start] === '<') return !(line.startsWith('<!--', start) && line.indexOf('-->', start + 4) !== -1);
  if (line[start] !== '[') return false;
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '[') return false; // a label holds no unescaped bracket: not a definition
    else if (c === ']') return line[i + 1] === ':';
  }
  return true; // the label may go on over the next lines
}

/**
 * The cells of the line from `start` on if it could be a table's delimiter row (inside a quote or
 * list too): only `|`, `-`, `:`, spaces and tabs, with at least one `-`. Counted as marked counts
 * alignments: one leading and one trailing pipe dropped, then split on `|`. 0 when it is not one.
 */
export function delimiterRowColumns(line: string, start: number): number {
  let first = -1;
  let last = -1;
  let dashes = 0;
  let pipes = 0;
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (c === '-') dashes++;
    else if (c === '|') pipes++;
    else if (c !== ':' && !isSpaceOrTab(c)) return 0;
    if (!isSpaceOrTab(c)) {
      if (first === -1) first = i;
      last = i;
    }
  }
  if (dashes === 0) return 0;
  if (line[first] === '|') pipes--;
  if (last !== first && line[last] === '|') pipes--;
  return Math.max(pipes, 0) + 1;
}

/**
 * The delimiter row of a top-level table, exactly as marked accepts one after its header: up to 3
 * spaces, cells of `:?-+:?` separated by `|`, a pipe or colon somewhere. Its column count, else 0.
 */
export function strictDelimiterRowColumns(line: string): number {
  const indent = spaceIndent(line);
  if (indent === undefined || indent > 3) return 0;
  let i = indent;
  let cells = 0;
  let pipeOrColon = false;
  if (line[i] === '|') {
    pipeOrColon = true;
    i++;
    while (line[i] === ' ') i++;
  }
  for (;;) {
    if (line[i] === ':') {
      pipeOrColon = true;
      i++;
    }
    if (line[i] !== '-') return 0;
    while (line[i] === '-') i++;
    if (line[i] === ':') {
      pipeOrColon = true;
      i++;
    }
    while (line[i] === ' ') i++;
    cells++;
    if (i === line.length) break;
    if (line[i] !== '|') return 0;
    pipeOrColon = true;
    i++;
    while (line[i] === ' ') i++;
    if (i === line.length) break; // a trailing pipe
  }
  return pipeOrColon ? cells : 0;
}

/**
 * Header cells as marked splits them: on pipes not escaped by an odd run of backslashes, the first
 * and last cell dropped when blank.
 */
export function headerCellCount(line: string): number {
  const bounds: number[] = [-1];
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '|') continue;
    let slashes = 0;
    for (let j = i - 1; j >= 0 && line[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 0) bounds.push(i);
  }
  bounds.push(line.length);
  let cells = bounds.length - 1;
  if (isBlank(line.slice(bounds[0]! + 1, bounds[1]))) cells--;
  if (cells > 0 && isBlank(line.slice(bounds.at(-2)! + 1, bounds.at(-1)))) cells--;
  return cells;
}

/**
 * Emphasis markers of a line: `*`, `_` and `~` characters in runs that could open or close
 * emphasis or strikethrough. A run with a space, tab or line end on both sides cannot, nor can a
 * `_` run between two letters or digits; everything else counts, escaped or not (a plain count
 * that never undercounts what marked sees).
 */
export function emphasisMarkers(line: string): number {
  let count = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== '*' && c !== '_' && c !== '~') continue;
    let end = i + 1;
    while (line[end] === c) end++;
    const before = line[i - 1];
    const after = line[end];
    const spaced = (before === undefined || isSpaceOrTab(before)) && (after === undefined || isSpaceOrTab(after));
    const intraword = c === '_' && isAsciiAlnum(before) && isAsciiAlnum(after);
    if (!spaced && !intraword) count += end - i;
    i = end - 1;
  }
  return count;
}

/**
 * The most markers in one word of the line (a run of characters between spaces and tabs): `*`,
 * `_`, `~`, `` ` ``, `!`, `[` and each `http`, where marked's inline scanner restarts and reads
 * the rest of the word again. Its start column too, for the message.
 */
export function mostMarkersInAWord(line: string): { count: number; column: number } {
  let best = { count: 0, column: 0 };
  let count = 0;
  let wordStart = 0;
  for (let i = 0; i <= line.length; i++) {
    const c = line[i];
    if (c === undefined || isSpaceOrTab(c)) {
      if (count > best.count) best = { count, column: wordStart };
      count = 0;
      wordStart = i + 1;
      continue;
    }
    if (c === '*' || c === '_' || c === '~' || c === '`' || c === '!' || c === '[') count++;
    else if ((c === 'h' || c === 'H') && line.slice(i, i + 4).toLowerCase() === 'http') count++;
  }
  return best;
}
