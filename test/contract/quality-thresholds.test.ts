import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../../src/quality/thresholds.ts';
import type { ThresholdRule } from '../../src/quality/thresholds.ts';
import { referenceDir } from './openapi-validator.ts';

const FACTS = readFileSync(path.join(referenceDir, 'twilio-insights-facts-2.md'), 'utf8');

// The rows of the markdown table that follows `heading` (first column, second column).
function tableAfter(heading: string): Map<string, string> {
  const start = FACTS.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string>();
  for (const line of FACTS.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|') && !line.startsWith('|---') && !line.startsWith('| Tag')) {
      const [, tag, condition] = line.split('|').map((c) => c.trim());
      rows.set(tag!.replaceAll('`', ''), condition!);
    } else if (rows.size > 0 && !line.startsWith('|')) break;
  }
  return rows;
}

// The one number with a unit in a condition: "RTT > 400 ms" -> 0.4 (seconds), "> 5%" -> 0.05 (ratio), "MOS < 3.5" -> 3.5.
function numbers(text: string): number[] {
  return [...text.matchAll(/([<>])?\s*(\d+(?:\.\d+)?)\s*(ms|%)?/g)]
    .filter((m) => m[1] !== undefined || m[3] !== undefined)
    .map((m) => (m[3] === 'ms' ? Number(m[2]) / 1000 : m[3] === '%' ? Number(m[2]) / 100 : Number(m[2])));
}

function rule(issue: string, edge: string): ThresholdRule {
  const r = DEFAULT_RULES.find((x) => x.issue === issue && x.edges.includes(edge as ThresholdRule['edges'][number]));
  expect(r, `${issue} on ${edge}`).toBeDefined();
  return r!;
}

const limits = (r: ThresholdRule): number[] => r.conditions.map((c) => c.above ?? c.below!);

describe('default quality thresholds match the reference (twilio-insights-facts-2.md §4)', () => {
  const gateway = tableAfter('Gateway tags (carrier, client and SIP edges)');
  const sdk = tableAfter('SDK tags are the "cumulative condition"');

  it('gateway high_jitter: average and maximum jitter in ms', () => {
    expect(numbers(gateway.get('high_jitter')!.split(', **or**')[0]!.replace(/(\d+)ms/g, '> $1 ms'))).toEqual(limits(rule('high_jitter', 'carrier_edge')));
    for (const edge of ['carrier_edge', 'sip_edge', 'client_edge']) expect(rule('high_jitter', edge).conditions.map((c) => c.field)).toEqual(['jitter_avg_seconds', 'jitter_max_seconds']);
  });

  it('gateway high_packet_loss: loss above the documented percentage', () => {
    expect(numbers(gateway.get('high_packet_loss')!)).toEqual(limits(rule('high_packet_loss', 'sip_edge')));
  });

  it('SDK RTT and MOS: the SDK tag table', () => {
    expect(numbers(sdk.get('high_latency')!)).toEqual(limits(rule('high_rtt', 'sdk_edge')));
    expect(rule('high_rtt', 'sdk_edge').conditions[0]!.above).toBeDefined();
    expect(numbers(sdk.get('low_mos')!)).toEqual(limits(rule('low_mos', 'sdk_edge')));
    expect(rule('low_mos', 'sdk_edge').conditions[0]!.below).toBeDefined();
  });

  it('SDK jitter and loss: the SDK warnings ("jitter > 30 ms", "packet loss > 1% in 3 out of last 5 samples")', () => {
    const warnings = tableAfter('The thresholds:\n');
    expect(numbers(`> ${/max (\d+)/.exec(warnings.get('jitter')!)![1]} ms`)).toEqual(limits(rule('high_jitter', 'sdk_edge')));
    expect(FACTS).toContain('packet loss > 1% in 3 out of last 5 samples');
    expect(limits(rule('high_packet_loss', 'sdk_edge'))).toEqual([0.01]);
  });

  it('the window is the documented "3 out of last 5 samples", cleared when none is bad', () => {
    const m = /(\d+) out of last (\d+) samples/.exec(FACTS)!;
    expect({ raiseAt: Number(m[1]), samples: Number(m[2]) }).toEqual({ raiseAt: DEFAULT_WINDOW.raiseAt, samples: DEFAULT_WINDOW.samples });
    expect(FACTS).toContain('clear when 0 do');
    expect(DEFAULT_WINDOW.clearAt).toBe(0);
  });
});
