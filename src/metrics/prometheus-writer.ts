import type { MetricDefinition } from './definitions.ts';
import type { MetricsWriter } from './store-walk.ts';
import type { FleetCellView, LabelValue, Subject } from './subject.ts';
import { ByteText, encodeText } from './byte-text.ts';
import { escapeLabelValue, familyHeader, formatValue } from './text-format.ts';
import type { ExpositionFormat } from './text-format.ts';

/**
 * Label text of store series (with the space before the value) kept across renders as UTF-8 bytes, per label list, by the subject's key (stream,
 * call, fleet cell): a scrape then copies bytes per series and allocates nothing, which keeps `/metrics` at 10,000
 * calls far below a plain prom-client registry (bench/render.ts). Entries die with their stream or call (weak keys).
 */
export class LabelTextCache {
  readonly #byLabels = new Map<string, WeakMap<object, Uint8Array>>();
  readonly #varyingByLabels = new Map<string, WeakMap<object, VaryingText>>();
  #spare: ByteText[] | undefined;

  /**
   * Family bodies for one render, reused from the last one: growing fresh buffers to 30 MB on every scrape
   * made V8 collect the whole heap for their external memory. A render that overlaps another gets new ones.
   */
  takeBodies(n: number): ByteText[] {
    const bodies = this.#spare ?? [];
    this.#spare = undefined;
    for (const b of bodies) b.clear();
    while (bodies.length < n) bodies.push(new ByteText());
    return bodies;
  }

  /** Gives bodies back once their bytes are sent (or copied out). */
  giveBodies(bodies: ByteText[]): void {
    this.#spare = bodies;
  }

  /** The cache of one label list whose values never change over a key's life. */
  of(labels: readonly string[]): WeakMap<object, Uint8Array> {
    return cacheOf(this.#byLabels, labels);
  }

  /** The cache of one label list with values that can change (codec, call type): each entry says what it was built from. */
  varying(labels: readonly string[]): WeakMap<object, VaryingText> {
    return cacheOf(this.#varyingByLabels, labels);
  }
}

function cacheOf<T>(caches: Map<string, WeakMap<object, T>>, labels: readonly string[]): WeakMap<object, T> {
  const id = labels.join(',');
  let cache = caches.get(id);
  if (!cache) caches.set(id, (cache = new WeakMap()));
  return cache;
}

/** Label bytes built from values that can change, with the values of the changing labels they were built from. */
interface VaryingText {
  bytes: Uint8Array;
  readonly read: (string | undefined)[];
}

// Families with the same label list share their label text: one group per list.
interface Group {
  readonly values: readonly LabelValue[];
  /** Set when no label can change over the key's life. */
  readonly cache: WeakMap<object, Uint8Array> | undefined;
  /** Set otherwise: entries are rebuilt when a changing label (codec, call type) reads differently. */
  readonly varying: WeakMap<object, VaryingText> | undefined;
  readonly changing: readonly LabelValue[];
  lastKey: object | undefined;
  lastBytes: Uint8Array | undefined;
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
  readonly #nameBytes: readonly Uint8Array[];
  readonly #bodies: ByteText[];
  readonly #cache: LabelTextCache;
  readonly #groupOf: readonly Group[];
  readonly #le: ReadonlyArray<readonly string[]>;

  /** A writer for one render of `families` (a walk plan's), with label text cached in `cache`. */
  constructor(families: readonly MetricDefinition[], format: ExpositionFormat, cache: LabelTextCache) {
    this.#families = families;
    this.#format = format;
    this.#names = families.map((d) => d.name);
    this.#nameBytes = families.map((d) => encodeText(d.name));
    this.#cache = cache;
    this.#bodies = cache.takeBodies(families.length);
    const groups = new Map<string, Group>();
    this.#groupOf = families.map((d) => {
      const id = d.labels.join(',');
      let g = groups.get(id);
      if (!g) {
        const values = d.labelValues ?? [];
        const changing = values.filter((v) => !v.stable);
        g = {
          values,
          cache: changing.length === 0 ? cache.of(d.labels) : undefined,
          varying: changing.length === 0 ? undefined : cache.varying(d.labels),
          changing,
          lastKey: undefined,
          lastBytes: undefined,
        };
        groups.set(id, g);
      }
      return g;
    });
    this.#le = families.map((d) => (d.type === 'histogram' ? [...(d.buckets ?? []).map(formatValue), '+Inf'] : []));
  }

  // The cached label bytes of the subject, or undefined when it has no key to cache them by.
  #cachedLabels(g: Group, s: Readonly<Subject>): Uint8Array | undefined {
    const key = s.key;
    if (key === undefined) return undefined;
    if (key === g.lastKey) return g.lastBytes;
    let bytes: Uint8Array | undefined;
    if (g.cache !== undefined) {
      bytes = g.cache.get(key);
      if (bytes === undefined) g.cache.set(key, (bytes = encodeText(`${labelText(g.values, s)} `)));
    } else {
      bytes = this.#varyingLabels(g, g.varying!, key, s);
    }
    g.lastKey = key;
    g.lastBytes = bytes;
    return bytes;
  }

  #varyingLabels(g: Group, cache: WeakMap<object, VaryingText>, key: object, s: Readonly<Subject>): Uint8Array {
    const entry = cache.get(key);
    let same = entry !== undefined;
    for (let i = 0; same && i < g.changing.length; i++) same = g.changing[i]!.read(s) === entry!.read[i];
    if (same) return entry!.bytes;
    const bytes = encodeText(`${labelText(g.values, s)} `);
    cache.set(key, { bytes, read: g.changing.map((v) => v.read(s)) });
    return bytes;
  }

  /** One gauge or counter series line. */
  value(f: number, s: Readonly<Subject>, value: number): void {
    const out = this.#bodies[f]!;
    const g = this.#groupOf[f]!;
    // Consecutive series of one subject (a stream's families) share the bytes found for the first (#cachedLabels).
    const labels = this.#cachedLabels(g, s);
    if (labels !== undefined) {
      out.line(this.#nameBytes[f]!, labels, value);
      return;
    }
    out.bytes(this.#nameBytes[f]!);
    out.text(`${labelText(g.values, s)} `);
    out.number(value);
    out.byte(0x0a);
  }

  /** One histogram series: cumulative buckets, sum and count. */
  histogram(f: number, s: Readonly<Subject>, cell: FleetCellView, h: number): void {
    const name = this.#names[f]!;
    const braced = labelText(this.#groupOf[f]!.values, s);
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
    this.#bodies[f]!.text(`${out}${name}_sum${braced} ${formatValue(cell.sums[h]!)}\n${name}_count${braced} ${cell.totals[h]!}\n`);
  }

  /**
   * Every family with its HELP and TYPE, even when it has no series, as UTF-8 chunks, and the callback that hands
   * the family buffers back for the next render once the chunks are sent. Ends the writer.
   */
  chunks(): { chunks: Uint8Array[]; release: () => void } {
    const chunks: Uint8Array[] = [];
    for (let f = 0; f < this.#families.length; f++) chunks.push(encodeText(familyHeader(this.#families[f]!, this.#format)), this.#bodies[f]!.view());
    const bodies = this.#bodies;
    return { chunks, release: () => this.#cache.giveBodies(bodies) };
  }
}
