/** One sample of the Prometheus text exposition format: `name{label="value",…} 42`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromExposition {
  samples: PromSample[];
  /** Metric family → its `# TYPE` (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
  /** The value of the sample with exactly these labels; undefined when there is none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name`, whatever its labels. */
  all(name: string): PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * A strict parser of the text format (version 0.0.4): it throws on any line it does not
 * understand, on a sample whose family has no `# TYPE`, and on a repeated sample, so a test
 * fails on output a Prometheus server would refuse.
 */
export function parsePrometheusText(text: string): PromExposition {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  for (const [i, line] of text.split('\n').entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (!m) throw new Error(`bad comment, ${where}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type, ${where}`);
        if (types.has(m[2]!)) throw new Error(`TYPE given twice, ${where}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    let rest = line;
    const name = NAME.exec(rest)?.[0];
    if (!name) throw new Error(`no metric name, ${where}`);
    rest = rest.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const label = LABEL_NAME.exec(rest)?.[0];
        if (!label || rest[label.length] !== '=' || rest[label.length + 1] !== '"') throw new Error(`bad label, ${where}`);
        rest = rest.slice(label.length + 2);
        let value = '';
        for (;;) {
          const c = rest[0];
          if (c === undefined) throw new Error(`unterminated label value, ${where}`);
          rest = rest.slice(1);
          if (c === '"') break;
          if (c === '\\') {
            const e = rest[0];
            rest = rest.slice(1);
            value += e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : (() => { throw new Error(`bad escape, ${where}`); })();
          } else value += c;
        }
        if (label in labels) throw new Error(`label given twice, ${where}`);
        labels[label] = value;
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) throw new Error(`bad label list, ${where}`);
      }
      rest = rest.slice(1);
    }
    const m = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
    if (!m) throw new Error(`bad value, ${where}`);
    const raw = m[1]!;
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case
    // (prom-client writes an empty event-loop histogram's mean as `Nan`).
    const special = raw.toLowerCase();
    const value = special === 'nan' ? NaN : /^[+-]?inf$/.test(special) ? (special.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad number, ${where}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(family) && !types.has(name)) throw new Error(`sample without # TYPE, ${where}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`sample given twice, ${where}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    samples,
    types,
    value: (name, labels = {}) => samples.find((s) => s.name === name && same(s.labels, labels))?.value,
    all: (name) => samples.filter((s) => s.name === name),
  };
}
