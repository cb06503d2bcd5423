import { createHash } from 'node:crypto';
import type { CloudEventBody, EventDelivery } from './event-delivery.ts';
import type { SinkRegistry } from './event-sinks.ts';
import type { Simulator } from './simulator.ts';

const PREFIX = 'com.twilio.voice.insights.';
const SCHEMAS = 'https://events-schemas.twilio.com/VoiceInsights.';

// The same record always gets the same id: a redelivery of it is recognisable, as with Twilio.
function eventId(text: string): string {
  return `EV${createHash('md5').update(text).digest('hex')}`;
}

/** Publishes the simulator's calls as Event Streams events: each visible metric record once, and call progress at the end. */
export class EventPublisher {
  // Per call: visible sample indices and records already published (records only grow at the end: time order).
  readonly #published = new Map<string, { indices: number; records: number }>();
  readonly #ended = new Set<string>();
  readonly #sim: Simulator;
  readonly #sinks: SinkRegistry;
  readonly #delivery: EventDelivery;
  readonly #tokenOf: (accountSid: string) => string | undefined;

  /** Creates a publisher over the model, the sinks and the delivery engine. */
  constructor(sim: Simulator, sinks: SinkRegistry, delivery: EventDelivery, tokenOf: (accountSid: string) => string | undefined) {
    this.#sim = sim;
    this.#sinks = sinks;
    this.#delivery = delivery;
    this.#tokenOf = tokenOf;
  }

  #emit(accountSid: string, type: string, schema: string, subject: string, data: Record<string, unknown>, time: string): void {
    const token = this.#tokenOf(accountSid);
    if (token === undefined) return;
    for (const { sink, schemaVersion } of this.#sinks.sinksFor(accountSid, `${PREFIX}${type}`)) {
      const event: CloudEventBody = {
        specversion: '1.0',
        type: `${PREFIX}${type}`,
        source: `/v1/Voice/${String(data['call_sid'])}`,
        id: eventId(`${type}/${subject}`),
        dataschema: `${SCHEMAS}${schema}/${schemaVersion}`,
        datacontenttype: 'application/json',
        time,
        data,
      };
      this.#delivery.enqueue(event, sink, token);
    }
  }

  /** Publishes what became visible since the last tick. */
  tick(): void {
    // No subscription, nothing to publish: the common case costs nothing per call.
    if (this.#sinks.subscriptions.size === 0) return;
    const time = new Date(this.#sim.now()).toISOString();
    for (const call of this.#sim.listCalls()) {
      const visible = this.#sim.visibleCount(call);
      const done = this.#published.get(call.sid) ?? { indices: 0, records: 0 };
      if (visible > done.indices) {
        const records = this.#sim.visibleSamples(call.sid);
        for (const r of records.slice(done.records)) {
          const type = r.edge === 'sdk_edge' ? 'call-metrics.sdk' : 'call-metrics.gateway';
          const subject = `${r.call_sid}/${r.edge}/${r.direction}/${r.timestamp}`;
          this.#emit(call.accountSid, type, 'CallMetric', subject, r as unknown as Record<string, unknown>, time);
        }
        this.#published.set(call.sid, { indices: visible, records: records.length });
      }
      const status = this.#sim.statusOf(call);
      if ((status === 'completed' || status === 'canceled') && !this.#ended.has(call.sid) && visible <= (this.#published.get(call.sid)?.indices ?? 0)) {
        this.#ended.add(call.sid);
        const data = { call_sid: call.sid, account_sid: call.accountSid, edge: 'carrier_edge', group: 'connection', name: status, level: 'INFO', timestamp: time };
        this.#emit(call.accountSid, 'call-event.gateway', 'CallEvent', `${call.sid}/${status}`, data, time);
      }
    }
  }
}
