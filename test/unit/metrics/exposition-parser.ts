/** One sample line of a text or OpenMetrics exposition. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The exemplar after ` # `, OpenMetrics only. */
  exemplar?: { labels: Record<string, string>; value: number; timestamp: number };
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*?)\})? (\S+)(?: # \{(.*?)\} (\S+) (\S+))?$/;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    end = re.lastIndex;
  }
  if (end !== text.length) throw new Error(`bad label set: {${text}}`);
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const v = Number(text);
  // prom-client writes NaN as "Nan" (the event-loop lag mean before its first sample); Prometheus reads either.
  if (Number.isNaN(v) && text.toLowerCase() !== 'nan') throw new Error(`bad value ${text}`);
  return v;
}

/** Parses every sample line (comments and blank lines skipped); throws on a line it cannot read. */
export function parseExposition(body: string): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const sample: ExpositionSample = { name: m[1]!, labels: parseLabels(m[2]), value: parseValue(m[3]!) };
    if (m[4] !== undefined) {
      sample.exemplar = { labels: parseLabels(m[4]), value: parseValue(m[5]!), timestamp: parseValue(m[6]!) };
    }
    out.push(sample);
  }
  return out;
}

/** The samples of one series name whose labels include `labels`. */
export function find(samples: readonly ExpositionSample[], name: string, labels: Record<string, string> = {}): ExpositionSample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample matching, failing when there is not exactly one. */
export function valueOf(samples: readonly ExpositionSample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return found[0]!.value;
}
