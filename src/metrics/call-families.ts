import type { CallState, SampleStore, StreamState } from '../store/sample-store.ts';
import type { MetricDefinition } from './definitions.ts';
import type { ExpositionFormat } from './prometheus.ts';
import { escapeLabelValue, familyHeader, formatValue } from './text-format.ts';

/**
 * Renders the per-call families straight from the store as exposition text. Each stream's label text is
 * built once and cached, so a scrape costs one string per series and no per-series objects; at 10,000 calls
 * this is what keeps `/metrics` at or below a plain prom-client registry (bench/render.ts).
 */
export class CallFamilies {
  readonly #store: SampleStore;
  readonly #values: readonly MetricDefinition[];
  readonly #timestamp: MetricDefinition | undefined;
  readonly #info: MetricDefinition | undefined;
  readonly #labels = new WeakMap<StreamState, string>();

  /** Renders `values` (rows with `extract`), the sample-timestamp and the info families that are given. */
  constructor(store: SampleStore, values: readonly MetricDefinition[], timestamp?: MetricDefinition, info?: MetricDefinition) {
    this.#store = store;
    this.#values = values;
    this.#timestamp = timestamp;
    this.#info = info;
  }

  #streamLabels(call: Readonly<CallState>, stream: StreamState): string {
    let text = this.#labels.get(stream);
    if (text === undefined) {
      text = `{call_sid="${escapeLabelValue(call.callSid)}",edge="${stream.edge}",direction="${stream.direction}"}`;
      this.#labels.set(stream, text);
    }
    return text;
  }

  /** Every per-call family, each with its HELP and TYPE even when empty. */
  render(format: ExpositionFormat): string {
    const defs = this.#values;
    const bodies = defs.map(() => '');
    let timestamps = '';
    let info = '';
    const ts = this.#timestamp;
    for (const call of this.#store.calls()) {
      if (this.#info) {
        info +=
          `${this.#info.name}{call_sid="${escapeLabelValue(call.callSid)}",account_sid="${escapeLabelValue(call.accountSid)}",` +
          `call_type="${escapeLabelValue(call.callType ?? '')}",codec_name="${escapeLabelValue(call.codecName ?? '')}",` +
          `media_region="${escapeLabelValue(call.mediaRegion ?? '')}"} 1\n`;
      }
      for (const stream of call.streams.values()) {
        const labels = this.#streamLabels(call, stream);
        for (let i = 0; i < defs.length; i++) {
          const value = defs[i]!.extract!(stream.values);
          if (value !== undefined) bodies[i] += `${defs[i]!.name}${labels} ${formatValue(value)}\n`;
        }
        if (ts) timestamps += `${ts.name}${labels} ${formatValue(stream.lastTimestampMs / 1000)}\n`;
      }
    }
    let out = '';
    for (let i = 0; i < defs.length; i++) out += familyHeader(defs[i]!, format) + bodies[i]!;
    if (ts) out += familyHeader(ts, format) + timestamps;
    if (this.#info) out += familyHeader(this.#info, format) + info;
    return out;
  }
}
