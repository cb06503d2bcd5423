import { describe, expect, it } from 'vitest';
import {
  ALL_METRICS,
  CALL_INFO,
  CALL_ISSUE_LABELS,
  CALL_SUMMARY_TAGS,
  CALL_LABELS,
  CALL_QUALITY_ISSUE,
  CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  FLEET_ACTIVE_CALLS,
  FLEET_HISTOGRAMS,
  FLEET_ISSUE_LABELS,
  FLEET_LABELS,
  FLEET_QUALITY_ISSUES,
  FLEET_SAMPLES,
  SELF_METRICS,
  otelAttributeName,
} from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';

const names = ALL_METRICS.map((d) => d.name);

function duplicates(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

describe('metric definitions', () => {
  it('lists every definition in ALL_METRICS once', () => {
    const expected: MetricDefinition[] = [
      ...CALL_METRICS,
      CALL_SAMPLE_TIMESTAMP,
      CALL_INFO,
      CALL_QUALITY_ISSUE,
      CALL_SUMMARY_TAGS,
      ...FLEET_HISTOGRAMS,
      FLEET_SAMPLES,
      FLEET_ACTIVE_CALLS,
      ...FLEET_QUALITY_ISSUES,
      ...Object.values(SELF_METRICS),
    ];
    expect(new Set(ALL_METRICS)).toEqual(new Set(expected));
    expect(ALL_METRICS).toHaveLength(expected.length);
  });

  it('has no duplicate names, keys or OTel names', () => {
    expect(duplicates(names)).toEqual([]);
    expect(duplicates(ALL_METRICS.map((d) => d.key))).toEqual([]);
    expect(duplicates(ALL_METRICS.map((d) => d.otelName))).toEqual([]);
  });

  it.each(ALL_METRICS.map((d) => [d.name, d] as const))('%s follows Prometheus naming', (name, def) => {
    expect(name).toMatch(/^[a-z_:][a-z0-9_:]*$/);
    expect(name).not.toMatch(/__/);
    expect(name.startsWith('twilio_')).toBe(true);
    if (def.scope === 'self') expect(name.startsWith('twilio_insights_exporter_')).toBe(true);
    for (const label of def.labels) {
      expect(label).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      expect(label.startsWith('__')).toBe(false);
    }
    expect(duplicates(def.labels)).toEqual([]);
    if (def.type === 'histogram') expect(def.labels).not.toContain('le');
  });

  it.each(ALL_METRICS.map((d) => [d.name, d] as const))('%s: counters and only counters end in _total', (name, def) => {
    expect(name.endsWith('_total')).toBe(def.type === 'counter');
  });

  it.each(ALL_METRICS.map((d) => [d.name, d] as const))('%s: the unit suffix agrees with the OTel unit', (name, def) => {
    const base = name.replace(/_total$/, '');
    expect(base.endsWith('_seconds'), `${name} vs ${def.otelUnit}`).toBe(def.otelUnit === 's');
    expect(base.endsWith('_bytes'), `${name} vs ${def.otelUnit}`).toBe(def.otelUnit === 'By');
    if (base.endsWith('_ratio')) expect(def.otelUnit).toBe('1');
    if (def.otelUnit === 'By') expect(name.endsWith('_bytes_total') || def.type !== 'counter').toBe(true);
    expect(def.otelUnit).toMatch(/^(1|s|By|\{[a-z]+\})$/);
  });

  it('keeps generated series names free: no family collides with another one or with its _bucket/_sum/_count/_total series', () => {
    const series = new Map<string, string>();
    for (const def of ALL_METRICS) {
      const produced =
        def.type === 'histogram'
          ? [def.name, `${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`]
          : def.type === 'counter'
            ? [def.name, def.name.replace(/_total$/, '')]
            : [def.name];
      for (const s of produced) {
        expect(series.get(s), `${s} from ${def.name}`).toBeUndefined();
        series.set(s, def.name);
      }
    }
  });

  it('gives OTel names the OTel syntax', () => {
    for (const def of ALL_METRICS) {
      expect(def.otelName).toMatch(/^[a-z][a-z0-9_.]*[a-z0-9]$/);
      expect(def.otelName.length).toBeLessThanOrEqual(255);
    }
  });

  it('labels per-call series by call_sid, edge, direction and keeps call_sid off the fleet aggregates', () => {
    for (const def of [...CALL_METRICS, CALL_SAMPLE_TIMESTAMP]) expect(def.labels).toEqual(CALL_LABELS);
    for (const def of [...FLEET_HISTOGRAMS, FLEET_SAMPLES]) expect(def.labels).toEqual(FLEET_LABELS);
    for (const def of ALL_METRICS.filter((d) => d.scope === 'fleet')) expect(def.labels).not.toContain('call_sid');
    expect(CALL_INFO.labels).toContain('call_sid');
    expect(CALL_INFO.name.endsWith('_info')).toBe(true);
  });

  it('labels the verdict families by stream and issue per call, by issue, edge and account in the fleet', () => {
    expect(CALL_QUALITY_ISSUE.labels).toEqual(CALL_ISSUE_LABELS);
    expect([CALL_QUALITY_ISSUE.scope, CALL_QUALITY_ISSUE.type, CALL_QUALITY_ISSUE.source]).toEqual(['call', 'gauge', 'stream_issue']);
    for (const def of FLEET_QUALITY_ISSUES) {
      expect(def.labels).toEqual(FLEET_ISSUE_LABELS);
      expect([def.scope, def.source]).toEqual(['fleet', 'issue']);
    }
    expect(FLEET_QUALITY_ISSUES.map((d) => d.type)).toEqual(['gauge', 'counter']);
    expect(otelAttributeName('issue')).toBe('twilio.quality.issue');
  });

  it('gives every sample metric an extractor and every histogram increasing buckets', () => {
    for (const def of [...CALL_METRICS, ...FLEET_HISTOGRAMS]) expect(typeof def.extract).toBe('function');
    for (const def of ALL_METRICS.filter((d) => d.type === 'histogram')) {
      const buckets = def.buckets ?? [];
      expect(buckets.length, def.name).toBeGreaterThan(0);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!, def.name).toBeGreaterThan(buckets[i - 1]!);
      if (def.name.endsWith('_ratio')) for (const b of buckets) expect(b).toBeLessThanOrEqual(1);
    }
  });

  it('extracts each value from the matching sample field', () => {
    const values = {
      mos: 1,
      rttSeconds: 2,
      jitterSeconds: 3,
      jitterAvgSeconds: 4,
      jitterMaxSeconds: 5,
      packetLossRatio: 6,
      audioInLevel: 7,
      audioOutLevel: 8,
      packetsSent: 9,
      packetsReceived: 10,
      packetsLost: 11,
      bytesSent: 12,
      bytesReceived: 13,
    };
    const byName = Object.fromEntries([...CALL_METRICS, ...FLEET_HISTOGRAMS].map((d) => [d.name, d.extract!(values)]));
    expect(byName).toEqual({
      twilio_call_mos: 1,
      twilio_call_rtt_seconds: 2,
      twilio_call_jitter_seconds: 3,
      twilio_call_jitter_avg_seconds: 4,
      twilio_call_jitter_max_seconds: 5,
      twilio_call_packet_loss_ratio: 6,
      twilio_call_audio_in_level: 7,
      twilio_call_audio_out_level: 8,
      twilio_call_packets_sent_total: 9,
      twilio_call_packets_received_total: 10,
      twilio_call_packets_lost_total: 11,
      twilio_call_sent_bytes_total: 12,
      twilio_call_received_bytes_total: 13,
      twilio_voice_mos: 1,
      twilio_voice_rtt_seconds: 2,
      twilio_voice_jitter_seconds: 3,
      twilio_voice_packet_loss_ratio: 6,
    });
    for (const def of [...CALL_METRICS, ...FLEET_HISTOGRAMS]) expect(def.extract!({})).toBeUndefined();
  });

  it('maps Twilio labels to distinct twilio.* OTel attributes and leaves the others as they are', () => {
    const twilioLabels = ['call_sid', 'account_sid', 'edge', 'direction', 'call_type', 'codec_name', 'media_region'];
    const mapped = twilioLabels.map(otelAttributeName);
    for (const a of mapped) expect(a.startsWith('twilio.')).toBe(true);
    expect(duplicates(mapped)).toEqual([]);
    expect(otelAttributeName('outcome')).toBe('outcome');
    expect(otelAttributeName('constructor')).toBe('constructor');
  });
});
