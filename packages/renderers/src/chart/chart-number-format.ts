/**
 * The grammar of a d3-format specifier, `[[fill]align][sign][symbol][0][width][,][.precision][~][type]`,
 * as d3-format documents it. Only the width matters here: d3 pads every formatted number to it
 * with no upper bound, so `"0>100000000"` on an axis makes each tick label 100 MB.
 */
const SPECIFIER = /^(?:(.)?([<>=^]))?([+\-( ])?([$#])?(0)?(\d+)?(,)?(\.\d+)?(~)?([a-z%])?$/i;

/** The width a number format pads to (0 when it doesn't, or when the string is not a number format). */
export function numberFormatWidth(specifier: string): number {
  const match = SPECIFIER.exec(specifier);
  return match?.[6] ? Number(match[6]) : 0;
}
