// The OpenMetrics text format with timestamps, as `promtool tsdb create-blocks-from openmetrics`
// reads it: `# TYPE`/`# HELP`/`# UNIT` lines, samples `name{label="value",...} value timestamp`
// (timestamp in seconds), and a final `# EOF`. Parsing keeps what detection needs (name, labels,
// value, time); exemplars after ` # ` are ignored.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Epoch ms. */
  timestamp: number;
}

export class OpenMetricsSyntaxError extends Error {
  override readonly name = 'OpenMetricsSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseNumber(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and the rest of the line. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (what: string): never => {
    throw new OpenMetricsSyntaxError(line, `${what} in the label set ${JSON.stringify(text.slice(0, 80))}`);
  };
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0] ?? fail('expected a label name');
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') fail(`expected ="…" after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const ch = text[i] ?? fail(`unterminated value of label ${name}`);
      i++;
      if (ch === '"') break;
      if (ch === '\\') {
        const esc = text[i];
        i++;
        value += esc === 'n' ? '\n' : esc === '\\' ? '\\' : esc === '"' ? '"' : fail(`unknown escape \\${esc ?? ''}`);
      } else value += ch;
    }
    if (name in labels) fail(`duplicate label ${name}`);
    labels[name] = value;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(`expected , or } after label ${name}`);
  }
}

/**
 * Parses OpenMetrics text into samples. Every sample must carry a timestamp (a file of scrapes
 * over time, not a single exposition). Throws `OpenMetricsSyntaxError` naming the line.
 */
export function parseOpenMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  let sawEof = false;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    if (sawEof) throw new OpenMetricsSyntaxError(lineNo, 'content after "# EOF"');
    if (line.startsWith('#')) {
      if (line.trim() === '# EOF') sawEof = true;
      return;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new OpenMetricsSyntaxError(lineNo, `expected a metric name, got ${JSON.stringify(line.slice(0, 40))}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, lineNo));
    const exemplar = rest.indexOf(' # ');
    if (exemplar >= 0) rest = rest.slice(0, exemplar);
    const fields = rest.trim().split(/\s+/);
    const value = parseNumber(fields[0] ?? '');
    if (value === undefined) throw new OpenMetricsSyntaxError(lineNo, `expected a sample value after ${name}, got ${JSON.stringify(fields[0] ?? '')}`);
    if (fields.length < 2) {
      throw new OpenMetricsSyntaxError(lineNo, `sample ${name} has no timestamp; the file must hold timestamped samples (seconds since the epoch)`);
    }
    const seconds = parseNumber(fields[1] ?? '');
    if (seconds === undefined || !Number.isFinite(seconds) || fields.length > 2) {
      throw new OpenMetricsSyntaxError(lineNo, `expected "value timestamp" after ${name}, got ${JSON.stringify(rest.trim())}`);
    }
    samples.push({ name, labels, value, timestamp: Math.round(seconds * 1000) });
  });
  return samples;
}

export interface Family {
  /** Family name (without `_total` / `_bucket`). */
  name: string;
  type: 'counter' | 'histogram' | 'gauge' | 'unknown';
  help?: string;
  samples: readonly Sample[];
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

/** Formats families as timestamped OpenMetrics text, ending with `# EOF`. */
export function formatOpenMetrics(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.help !== undefined) out.push(`# HELP ${f.name} ${f.help}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(`${s.name}${formatLabels(s.labels)} ${formatValue(s.value)} ${formatValue(s.timestamp / 1000)}`);
  }
  out.push('# EOF', '');
  return out.join('\n');
}
