import type { CliOutput } from './cli-command.js';

/**
 * Left-aligned columns separated by two spaces, for terminals only (piped output is JSON lines).
 * The last column is cut to the terminal's width rather than wrapping under the first.
 */
export function printTable(out: CliOutput, header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const columns = out.columns || 0;
  for (const row of all) {
    let line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
    if (columns > 20 && line.length > columns) line = `${line.slice(0, columns - 1)}…`;
    out.write(`${line}\n`);
  }
}
