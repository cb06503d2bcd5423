import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallType, Edge } from '../../../src/samples/sample.ts';
import type { MetricRecord } from '../../../src/simulator/metric-record.ts';
import type { StreamSpec } from '../../../src/simulator/metric-stream.ts';
import { edgeDirections } from '../../../src/samples/sample.ts';
import { streamRecordAt, streamRecords } from '../../../src/simulator/metric-stream.ts';
import { deterministicSid } from '../../../src/simulator/sid.ts';
import { StreamCheckpoints } from '../../../src/simulator/stream-checkpoints.ts';

const START = Date.UTC(2026, 10, 27, 10, 0, 0);
const spec = (edge: Edge, direction: StreamSpec['direction'], type: CallType = 'client', startMs = START): StreamSpec => ({
  seed: 3,
  call: { sid: deterministicSid('CA', 'stream', 1), accountSid: 'ACdec0de00000000000000000000000000', type, startMs, degraded: true },
  edge,
  direction,
});

const GATEWAYS: readonly Edge[] = ['carrier_edge', 'sip_edge', 'client_edge'];

describe('metric stream records', () => {
  it('gives gateway edges one stream per direction with the documented shape', () => {
    for (const edge of GATEWAYS) {
      const [inbound] = streamRecords(spec(edge, 'inbound'), 0, 1);
      const [outbound] = streamRecords(spec(edge, 'outbound'), 0, 1);
      for (const [record, counter] of [[inbound, 'packets_received'], [outbound, 'packets_sent']] as const) {
        expect(record?.edge).toBe(edge);
        const data = record?.[edge as 'carrier_edge'];
        expect(Object.keys(data ?? {}).sort()).toEqual(['codec', 'codec_name', 'cumulative', 'interval', 'metadata']);
        expect(Object.keys(data?.metadata ?? {}).sort()).toEqual(['edge_location', 'external_ip', 'region', 'twilio_ip']);
        expect(Object.keys(data?.cumulative ?? {}).sort()).toEqual(['jitter', counter, 'packets_lost'].sort());
        expect(Object.keys(data?.cumulative.jitter ?? {}).sort()).toEqual(['avg', 'max']);
        expect(Object.keys(data?.interval ?? {}).sort()).toEqual([counter, 'packets_lost', 'packets_loss_percentage'].sort());
        for (const other of ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge'] as const) {
          if (other !== edge) expect(record?.[other]).toBeNull();
        }
      }
    }
    expect(streamRecords(spec('carrier_edge', 'both'), 0, 5)).toEqual([]);
  });

  it('gives sdk_edge a single "both" stream with interval quality and cumulative byte counters', () => {
    expect(edgeDirections('sdk_edge')).toEqual(['both']);
    const [record] = streamRecords(spec('sdk_edge', 'both'), 0, 1);
    expect(record?.direction).toBe('both');
    expect(Object.keys(record?.sdk_edge?.interval ?? {}).sort()).toEqual(
      ['audio_in', 'audio_out', 'jitter', 'mos', 'packets_loss_percentage', 'packets_lost', 'packets_received', 'rtt'].sort(),
    );
    expect(Object.keys(record?.sdk_edge?.cumulative ?? {}).sort()).toEqual(
      ['bytes_received', 'bytes_sent', 'packets_lost', 'packets_received', 'packets_sent'].sort(),
    );
    expect(record?.carrier_edge).toBeNull();
    expect(record?.sip_edge).toBeNull();
    expect(record?.client_edge).toBeNull();
    expect(streamRecords(spec('sdk_edge', 'inbound'), 0, 3)).toEqual([]);
  });

  it('spaces samples 10 s apart, each stamped at the end of its window, keeping the start precision', () => {
    const whole = streamRecords(spec('sdk_edge', 'both', 'client', START), 0, 3).map((r) => r.timestamp);
    expect(whole).toEqual(['2026-11-27T10:00:10Z', '2026-11-27T10:00:20Z', '2026-11-27T10:00:30Z']);
    const milli = streamRecords(spec('carrier_edge', 'inbound', 'carrier', START + 123), 0, 2).map((r) => r.timestamp);
    expect(milli).toEqual(['2026-11-27T10:00:10.123Z', '2026-11-27T10:00:20.123Z']);
  });

  it('never lets a cumulative counter decrease, and counts each interval into it', () => {
    const counters = (record: MetricRecord): number[] => {
      const data = record.sdk_edge ?? record.carrier_edge ?? record.sip_edge ?? record.client_edge;
      const cumulative = (data?.cumulative ?? {}) as unknown as Record<string, unknown>;
      return Object.values(cumulative).filter((v): v is number => typeof v === 'number');
    };
    for (const [edge, direction] of [['sdk_edge', 'both'], ['carrier_edge', 'inbound'], ['sip_edge', 'outbound']] as const) {
      const records = streamRecords(spec(edge, direction, 'trunking_originating'), 0, 400);
      for (let i = 1; i < records.length; i++) {
        const before = counters(records[i - 1] as MetricRecord);
        counters(records[i] as MetricRecord).forEach((value, k) => expect(value).toBeGreaterThanOrEqual(before[k] ?? 0));
      }
      if (edge === 'carrier_edge') {
        const a = records[10]?.carrier_edge;
        const b = records[11]?.carrier_edge;
        expect((b?.cumulative.packets_received ?? 0) - (a?.cumulative.packets_received ?? 0)).toBe(b?.interval.packets_received);
        expect((b?.cumulative.packets_lost ?? 0) - (a?.cumulative.packets_lost ?? 0)).toBe(b?.interval.packets_lost);
        expect(b?.cumulative.jitter.max).toBeGreaterThanOrEqual(a?.cumulative.jitter.max ?? 0);
      }
    }
  });

  it('computes any single sample exactly as the range walk does (random access is consistent)', () => {
    const all = streamRecords(spec('client_edge', 'outbound'), 0, 120);
    fc.assert(
      fc.property(fc.nat(119), (index) => {
        expect(streamRecordAt(spec('client_edge', 'outbound'), index)).toEqual(all[index]);
        expect(streamRecords(spec('client_edge', 'outbound'), index, 120)).toEqual(all.slice(index));
      }),
    );
  });

  it('gives identical records with the checkpoint cache, whatever ranges are read in whatever order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(300), fc.nat(40)), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 3 }), (ranges, maxStreams) => {
        const checkpoints = new StreamCheckpoints(maxStreams);
        for (const [from, length] of ranges) {
          for (const [edge, direction] of [['sdk_edge', 'both'], ['client_edge', 'inbound']] as const) {
            const plain = streamRecords(spec(edge, direction), from, from + length);
            expect(streamRecords({ ...spec(edge, direction), checkpoints }, from, from + length)).toEqual(plain);
          }
        }
        expect(checkpoints.size).toBeLessThanOrEqual(maxStreams);
      }),
      { numRuns: 40 },
    );
  });
});
