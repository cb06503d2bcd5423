import type { MetricDefinition } from './definitions.ts';
import type { MetricsWriter } from './store-walk.ts';
import type { FleetCellView, LabelValue, Subject } from './subject.ts';
import { escapeLabelValue, familyHeader, formatValue } from './text-format.ts';
import type { ExpositionFormat } from './text-format.ts';

/**
 * Label text of store series kept across renders, per label list, by the subject's key (stream, call, fleet cell):
 * a scrape then costs one string per series and no per-series objects, which keeps `/metrics` at 10,000 calls far
 * below a plain prom-client registry (bench/render.ts). Entries die with their stream or call (weak keys).
 */
export class LabelTextCache {
  readonly #byLabels = new Map<string, WeakMap<object, string>>();

  /** The cache of one label list. */
  of(labels: readonly string[]): WeakMap<object, string> {
    const id = labels.join(',');
    let cache = this.#byLabels.get(id);
    if (!cache) this.#byLabels.set(id, (cache = new WeakMap()));
    return cache;
  }
}

// Families with the same label list share their label text: one group per list.
interface Group {
  readonly values: readonly LabelValue[];
  /** Undefined when a label can change over the key's life (codec, call type): such text is built per render. */
  readonly cache: WeakMap<object, string> | undefined;
  lastKey: object | undefined;
  lastText: string;
}

function labelText(values: readonly LabelValue[], s: Readonly<Subject>): string {
  if (values.length === 0) return '';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out += `${i === 0 ? '' : ','}${v.name}="${escapeLabelValue(v.read(s) ?? '')}"`;
  }
  return `${out}}`;
}

/** Writes the walked families as Prometheus text or OpenMetrics (histogram buckets with `call_sid` exemplars). */
export class PrometheusTextWriter implements MetricsWriter {
  readonly #families: readonly MetricDefinition[];
  readonly #format: ExpositionFormat;
  readonly #names: readonly string[];
  readonly #bodies: string[];
  readonly #groupOf: readonly Group[];
  readonly #le: ReadonlyArray<readonly string[]>;

  /** A writer for one render of `families` (a walk plan's), with label text cached in `cache`. */
  constructor(families: readonly MetricDefinition[], format: ExpositionFormat, cache: LabelTextCache) {
    this.#families = families;
    this.#format = format;
    this.#names = families.map((d) => d.name);
    this.#bodies = families.map(() => '');
    const groups = new Map<string, Group>();
    this.#groupOf = families.map((d) => {
      const id = d.labels.join(',');
      let g = groups.get(id);
      if (!g) {
        const values = d.labelValues ?? [];
        groups.set(id, (g = { values, cache: values.every((v) => v.stable) ? cache.of(d.labels) : undefined, lastKey: undefined, lastText: '' }));
      }
      return g;
    });
    this.#le = families.map((d) => (d.type === 'histogram' ? [...(d.buckets ?? []).map(formatValue), '+Inf'] : []));
  }

  #labels(f: number, s: Readonly<Subject>): string {
    const g = this.#groupOf[f]!;
    const key = s.key;
    if (key !== undefined && key === g.lastKey) return g.lastText;
    let text = key === undefined ? undefined : g.cache?.get(key);
    if (text === undefined) {
      text = labelText(g.values, s);
      if (key !== undefined) g.cache?.set(key, text);
    }
    g.lastKey = key;
    g.lastText = text;
    return text;
  }

  /** One gauge or counter series line. */
  value(f: number, s: Readonly<Subject>, value: number): void {
    const g = this.#groupOf[f]!;
    // Consecutive series of one subject (a stream's families) share the text found for the first.
    const labels = s.key !== undefined && s.key === g.lastKey ? g.lastText : this.#labels(f, s);
    this.#bodies[f] += `${this.#names[f]!}${labels} ${formatValue(value)}\n`;
  }

  /** One histogram series: cumulative buckets, sum and count. */
  histogram(f: number, s: Readonly<Subject>, cell: FleetCellView, h: number): void {
    const name = this.#names[f]!;
    const braced = this.#labels(f, s);
    const labels = braced === '' ? '' : `,${braced.slice(1, -1)}`;
    const le = this.#le[f]!;
    const counts = cell.counts[h]!;
    let out = '';
    let cumulative = 0;
    for (let b = 0; b < le.length; b++) {
      cumulative += counts[b]!;
      out += `${name}_bucket{le="${le[b]!}"${labels}} ${cumulative}`;
      const call = cell.exemplarCall[h]![b]!;
      if (this.#format === 'openmetrics' && call !== '') {
        out += ` # {call_sid="${escapeLabelValue(call)}"} ${formatValue(cell.exemplarValue[h]![b]!)} ${(cell.exemplarTime[h]![b]! / 1000).toFixed(3)}`;
      }
      out += '\n';
    }
    this.#bodies[f] += `${out}${name}_sum${braced} ${formatValue(cell.sums[h]!)}\n${name}_count${braced} ${cell.totals[h]!}\n`;
  }

  /** Every family with its HELP and TYPE, even when it has no series. */
  text(): string {
    let out = '';
    for (let f = 0; f < this.#families.length; f++) out += familyHeader(this.#families[f]!, this.#format) + this.#bodies[f]!;
    return out;
  }
}
