/** Which part of the exporter handles an Event Streams type. */
export type EventKind = 'call_metrics' | 'call_event' | 'call_summary';

/** An Event Streams type the exporter understands, and the schema versions it accepts. */
export interface EventTypeSpec {
  readonly type: string;
  readonly kind: EventKind;
  /** `dataschema` versions (`…/VoiceInsights.CallMetric/2` is 2) this type is read with. */
  readonly schemaVersions: readonly number[];
  /** The version the setup command subscribes to: the newest understood. */
  readonly subscribeVersion: number;
}

const PREFIX = 'com.twilio.voice.insights.';

// Versions from the event-type pages (reference facts-2 §3.1): CallMetric/2; CallEvent/2 and /3 (the gateway
// page moved from 2 to 3 without a shape change the exporter reads); call summaries v1 and v2 (Feb 2022).
/** The Event Streams types the exporter subscribes to and reads; anything else is counted and ignored. */
export const EVENT_TYPES: readonly EventTypeSpec[] = [
  { type: `${PREFIX}call-metrics.gateway`, kind: 'call_metrics', schemaVersions: [2], subscribeVersion: 2 },
  { type: `${PREFIX}call-metrics.sdk`, kind: 'call_metrics', schemaVersions: [2], subscribeVersion: 2 },
  { type: `${PREFIX}call-event.gateway`, kind: 'call_event', schemaVersions: [2, 3], subscribeVersion: 3 },
  { type: `${PREFIX}call-event.sdk`, kind: 'call_event', schemaVersions: [2, 3], subscribeVersion: 3 },
  { type: `${PREFIX}call-summary.partial`, kind: 'call_summary', schemaVersions: [1, 2], subscribeVersion: 2 },
  { type: `${PREFIX}call-summary.predicted-complete`, kind: 'call_summary', schemaVersions: [1, 2], subscribeVersion: 2 },
  { type: `${PREFIX}call-summary.complete`, kind: 'call_summary', schemaVersions: [1, 2], subscribeVersion: 2 },
];

const BY_TYPE: ReadonlyMap<string, EventTypeSpec> = new Map(EVENT_TYPES.map((t) => [t.type, t]));

/** The spec of a known type, or undefined. */
export function eventType(type: string): EventTypeSpec | undefined {
  return BY_TYPE.get(type);
}

const SCHEMA_VERSION = /\/(\d{1,4})$/;

/** The version at the end of a `dataschema` URL (`https://events-schemas.twilio.com/VoiceInsights.CallMetric/2` is 2), or NaN. */
export function schemaVersion(dataschema: unknown): number {
  if (typeof dataschema !== 'string' || dataschema.length > 512) return Number.NaN;
  const m = SCHEMA_VERSION.exec(dataschema);
  return m ? Number(m[1]) : Number.NaN;
}
