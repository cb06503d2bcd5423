import { describe, expect, it } from 'vitest';
import { parseCloudEvent, parseEventBatch, skipFutureSamples, skippedTotal } from '../../../src/events/cloud-event.ts';
import type { ParsedBatch } from '../../../src/events/cloud-event.ts';

const ACCOUNT = 'AC998c10b68cbfda9f67277f7d8f4439c9';
const CALL = 'CA7569efe0253644fa4a88aa97beca3310';

// A gateway Call Metric record as Event Streams sends it (same shape as the REST record).
const METRIC = {
  timestamp: '2024-01-01T00:00:10Z',
  call_sid: CALL,
  account_sid: ACCOUNT,
  edge: 'carrier_edge',
  direction: 'inbound',
  carrier_edge: {
    codec: 0,
    codec_name: 'pcmu',
    cumulative: { jitter: { max: 12, avg: 3 }, packets_received: 500, packets_lost: 1 },
    interval: { packets_received: 500, packets_loss_percentage: 0.2 },
    metadata: { region: 'us1' },
  },
};

function envelope(type: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: `com.twilio.voice.insights.${type}`,
    source: `/v1/Voice/${CALL}`,
    id: 'EV00000000000000000000000000000001',
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
    // The docs' examples put a time here; it is ignored, data is JSON.
    datacontenttype: '2024-01-01T00:00:10Z',
    time: '2024-01-01T00:01:30Z',
    data,
    ...extra,
  };
}

describe('parseCloudEvent', () => {
  it('turns a call-metrics event into the sample the REST parser makes of the same record', () => {
    const e = parseCloudEvent(envelope('call-metrics.gateway', METRIC), ACCOUNT);
    expect(e).toMatchObject({
      kind: 'call_metrics',
      id: 'EV00000000000000000000000000000001',
      sample: { callSid: CALL, accountSid: ACCOUNT, edge: 'carrier_edge', direction: 'inbound', timestampMs: Date.UTC(2024, 0, 1, 0, 0, 10) },
    });
    if (e && 'sample' in e) expect(e.sample.values).toMatchObject({ jitterAvgSeconds: 0.003, jitterMaxSeconds: 0.012, packetLossRatio: 0.002 });
  });

  it('reads call events and summaries', () => {
    const ev = parseCloudEvent(
      envelope('call-event.sdk', { call_sid: CALL, account_sid: ACCOUNT, edge: 'sdk_edge', group: 'network-quality-warning-raised', name: 'high-rtt', level: 'WARNING' }, { dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/3' }),
      ACCOUNT,
    );
    expect(ev).toMatchObject({ kind: 'call_event', group: 'network-quality-warning-raised', name: 'high-rtt', level: 'WARNING', edge: 'sdk_edge' });
    const sum = parseCloudEvent(
      envelope('call-summary.complete', { call_sid: CALL, account_sid: ACCOUNT, call_type: 'carrier', tags: ['high_jitter', 'low_mos'] }, { dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallSummary/2' }),
      ACCOUNT,
    );
    expect(sum).toMatchObject({ kind: 'call_summary', callType: 'carrier', tags: ['high_jitter', 'low_mos'] });
  });

  it.each([
    ['not an object', 'x', 'not_object'],
    ['no specversion', { ...envelope('call-metrics.gateway', METRIC), specversion: '0.3' }, 'bad_envelope'],
    ['no id', { ...envelope('call-metrics.gateway', METRIC), id: '' }, 'bad_envelope'],
    ['an id longer than 128', { ...envelope('call-metrics.gateway', METRIC), id: 'E'.repeat(129) }, 'bad_envelope'],
    ['a schema version the type does not name', envelope('call-metrics.gateway', METRIC, { dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/1' }), 'bad_schema_version'],
    ['no dataschema', envelope('call-metrics.gateway', METRIC, { dataschema: undefined }), 'bad_schema_version'],
    ['another account\'s data', envelope('call-metrics.gateway', { ...METRIC, account_sid: 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' }), 'wrong_account'],
    ['a bad metric value', envelope('call-metrics.gateway', { ...METRIC, carrier_edge: { interval: { packets_loss_percentage: 101 } } }), 'bad_value'],
    ['an event name with spaces', envelope('call-event.gateway', { call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', group: 'connection', name: 'com pleted', level: 'INFO' }, { dataschema: 'x/VoiceInsights.CallEvent/3' }), 'bad_event_data'],
    ['tags that are not strings', envelope('call-summary.partial', { call_sid: CALL, account_sid: ACCOUNT, tags: [1] }, { dataschema: 'x/VoiceInsights.CallSummary/1' }), 'bad_event_data'],
    ['an edge block with more than 64 tags', envelope('call-summary.complete', { call_sid: CALL, account_sid: ACCOUNT, sdk_edge: { tags: Array(65).fill('low_mos') } }, { dataschema: 'x/VoiceInsights.CallSummary/2' }), 'bad_event_data'],
  ])('skips %s with reason %s', (_name, raw, reason) => {
    expect(parseCloudEvent(raw, ACCOUNT)).toMatchObject({ reason });
  });

  it('attributes summary tags to the edge block listing them, call-level ones to "call", unknown ones to "other"', () => {
    const sum = parseCloudEvent(
      envelope('call-summary.predicted-complete', {
        call_sid: CALL, account_sid: ACCOUNT, call_type: 'client', tags: ['low_mos', 'high_pdd', 'brand_new_tag'],
        sdk_edge: { tags: ['low_mos', 'ice_failure'] }, client_edge: { properties: {} }, carrier_edge: null,
      }, { dataschema: 'x/VoiceInsights.CallSummary/2' }),
      ACCOUNT,
    );
    expect(sum).toMatchObject({
      kind: 'call_summary', processingState: 'predicted_complete',
      edgeTags: [{ tag: 'low_mos', edge: 'sdk_edge' }, { tag: 'ice_failure', edge: 'sdk_edge' }, { tag: 'high_pdd', edge: 'call' }, { tag: 'other', edge: 'call' }],
    });
  });

  it('reads a summary call_type the poll path would not keep as a label as absent, and keeps the summary', () => {
    for (const odd of ['x'.repeat(65), 'carrier\n']) {
      const sum = parseCloudEvent(envelope('call-summary.complete', { call_sid: CALL, account_sid: ACCOUNT, call_type: odd, tags: [] }, { dataschema: 'x/VoiceInsights.CallSummary/2' }), ACCOUNT);
      expect(sum).toMatchObject({ kind: 'call_summary', callType: undefined, processingState: 'complete' });
    }
  });

  it('reads a summary with tags null (a real capture) as one without tags', () => {
    const sum = parseCloudEvent(envelope('call-summary.complete', { call_sid: CALL, account_sid: ACCOUNT, tags: null }, { dataschema: 'x/VoiceInsights.CallSummary/1' }), ACCOUNT);
    expect(sum).toMatchObject({ processingState: 'complete', tags: [], edgeTags: [] });
  });

  it('reads a Conversation Relay event with edge null as edge "none"', () => {
    const ev = parseCloudEvent(
      envelope('call-event.gateway', { call_sid: CALL, account_sid: ACCOUNT, edge: null, group: 'conversation_relay', name: 'tts_latency', level: 'INFO' }, { dataschema: 'x/VoiceInsights.CallEvent/3' }),
      ACCOUNT,
    );
    expect(ev).toMatchObject({ kind: 'call_event', edge: 'none', group: 'conversation_relay' });
  });

  it('returns undefined for a well-formed event of a type it does not read', () => {
    expect(parseCloudEvent(envelope('conference-summary.complete', {}), ACCOUNT)).toBeUndefined();
  });
});

describe('parseEventBatch', () => {
  it('keeps the good events of a batch, counts the bad by reason and the unknown types', () => {
    const body = [
      envelope('call-metrics.gateway', METRIC),
      { nope: true },
      envelope('conference-summary.partial', {}),
      envelope('call-metrics.gateway', { ...METRIC, timestamp: '2024-01-01T00:00:20Z' }, { id: 'EV2' }),
    ];
    const b = parseEventBatch(body, ACCOUNT) as ParsedBatch;
    expect(b.events.map((e) => e.id)).toEqual(['EV00000000000000000000000000000001', 'EV2']);
    expect(b.skipped.map((s) => s.reason)).toEqual(['bad_envelope']);
    expect(b.unknownTypes).toBe(1);
  });

  it('groups skipped events by reason, in order of first appearance, with the count and first detail of each group', () => {
    const badSid = (i: number) => envelope('call-metrics.gateway', { ...METRIC, call_sid: `CA-bad-${i}` }, { id: `EVs${i}` });
    const body = [badSid(1), 7, badSid(2), { nope: true }, envelope('call-metrics.gateway', METRIC), 'x', badSid(3)];
    const b = parseEventBatch(body, ACCOUNT) as ParsedBatch;
    expect(b.events).toHaveLength(1);
    expect(skippedTotal(b)).toBe(6);
    expect(b.skipped.map((g) => [g.reason, g.count])).toEqual([['bad_call_sid', 3], ['not_object', 2], ['bad_envelope', 1]]);
    expect(b.skipped[0]!.detail).toMatch(/^call_sid /);
    expect(b.skipped[1]!.detail).toBe('event is not a JSON object');
  });

  it('skips call-metrics events dated past the bound as future_timestamp, keeping the order of the rest (probe E #2)', () => {
    const at = (id: string, timestamp: string) => envelope('call-metrics.gateway', { ...METRIC, timestamp }, { id });
    const progress = envelope('call-event.gateway', { call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', group: 'call_progress', name: 'completed', level: 'INFO' }, { id: 'P1', dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/3' });
    const body = [at('A', '2024-01-01T00:00:10Z'), at('F1', '2025-01-01T00:00:00Z'), progress, at('B', '2024-01-01T00:05:00Z'), at('F2', '9999-12-31T23:59:59Z'), {}];
    const b = parseEventBatch(body, ACCOUNT) as ParsedBatch;
    skipFutureSamples(b, Date.parse('2024-01-01T00:05:00Z'));
    expect(b.events.map((e) => e.id)).toEqual(['A', 'P1', 'B']);
    expect(b.skipped.map((g) => [g.reason, g.count])).toEqual([['bad_envelope', 1], ['future_timestamp', 2]]);
    expect(b.skipped[1]!.detail).toMatch(/^record is dated \d+s past the allowed clock skew$/);
  });

  it('refuses a body that is not an array, naming what it must be', () => {
    expect(parseEventBatch({ events: [] }, ACCOUNT)).toBe('body must be a JSON array of CloudEvents');
  });
});
