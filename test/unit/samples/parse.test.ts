import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { REJECT_REASONS, checkScope, describeValue, parseMetricRecord, parseTimestamp } from '../../../src/samples/parse.ts';
import type { RejectReason } from '../../../src/samples/parse.ts';
import type { Sample } from '../../../src/samples/sample.ts';

type Json = Record<string, unknown>;

function fixture(name: string): Json[] {
  return JSON.parse(readFileSync(new URL(`../../fixtures/records/${name}`, import.meta.url), 'utf8')) as Json[];
}

const SPEC_SDK = fixture('sdk-edge-spec-read.json');
const KB_GO_CARRIER = fixture('carrier-edge-kb-go.json');
const GATEWAY_INTERVAL = fixture('gateway-interval.json');

const CALL_SID = 'CA7569efe0253644fa4a88aa97beca3310';
const ACCOUNT_SID = 'AC998c10b68cbfda9f67277f7d8f4439c9';
const KB_CALL_SID = 'CA0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7';

// Unit conversions of non-integer inputs are compared to 15 decimals (the division may round differently).
function near(x: number): number {
  return expect.closeTo(x, 15) as number;
}

function accepted(raw: unknown): Sample {
  const result = parseMetricRecord(raw);
  if (!result.ok) throw new Error(`rejected (${result.reason}): ${result.detail}`);
  return result.sample;
}

function rejectedWith(raw: unknown): RejectReason {
  const result = parseMetricRecord(raw);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.sample)}`);
  expect(result.detail.length).toBeGreaterThan(0);
  return result.reason;
}

// A deep copy of the spec's sdk_edge record with `edit` applied: each bad record differs in one place only.
function sdk(edit: (r: Json & { sdk_edge: Json & { interval: Json; cumulative: Json } }) => void): Json {
  const r = structuredClone(SPEC_SDK[0]!) as Json & { sdk_edge: Json & { interval: Json; cumulative: Json } };
  edit(r);
  return r;
}

// The same for the kb-go gateway record (carrier_edge, inbound, with cumulative jitter).
function gateway(edit: (r: Json & { carrier_edge: Json & { cumulative: Json & { jitter: Json } } }) => void): Json {
  const r = structuredClone(KB_GO_CARRIER[0]!) as Json & { carrier_edge: Json & { cumulative: Json & { jitter: Json } } };
  edit(r);
  return r;
}

describe('parseMetricRecord on real records', () => {
  it('turns the spec sdk_edge example into one sample in base units', () => {
    expect(accepted(SPEC_SDK[0])).toStrictEqual({
      callSid: CALL_SID,
      accountSid: ACCOUNT_SID,
      edge: 'sdk_edge',
      direction: 'both',
      timestampMs: Date.UTC(2019, 9, 7, 22, 32, 6),
      values: {
        mos: 4.39,
        rttSeconds: 0.081,
        jitterSeconds: 0.009,
        audioInLevel: 81,
        audioOutLevel: 5237,
        packetsSent: 3934,
        packetsReceived: 3900,
        packetsLost: 0,
        bytesSent: 329425,
        bytesReceived: 547788,
      },
    });
  });

  it('keeps fields Twilio did not send absent, not undefined (spec example has no loss %, codec or region)', () => {
    const s = accepted(SPEC_SDK[0]);
    expect(Object.keys(s)).not.toContain('codecName');
    expect(Object.keys(s)).not.toContain('region');
    for (const k of ['packetLossRatio', 'jitterAvgSeconds', 'jitterMaxSeconds']) expect(Object.keys(s.values)).not.toContain(k);
  });

  it('turns the kb-go carrier_edge inbound record (ms timestamp, no interval) into a sample', () => {
    expect(accepted(KB_GO_CARRIER[0])).toStrictEqual({
      callSid: KB_CALL_SID,
      accountSid: ACCOUNT_SID,
      edge: 'carrier_edge',
      direction: 'inbound',
      timestampMs: Date.UTC(2020, 0, 6, 15, 21, 47, 17),
      codecName: 'pcmu',
      region: 'us1',
      values: {
        // Gateway jitter is taken as milliseconds (reference §4, an open question), so 0.010499 ms.
        jitterMaxSeconds: near(0.000010499),
        jitterAvgSeconds: near(0.00000553242),
        packetsReceived: 478,
        packetsLost: 0,
      },
    });
  });

  it('turns the kb-go carrier_edge outbound record into a sample with packets_sent', () => {
    expect(accepted(KB_GO_CARRIER[1])).toStrictEqual({
      callSid: KB_CALL_SID,
      accountSid: ACCOUNT_SID,
      edge: 'carrier_edge',
      direction: 'outbound',
      timestampMs: Date.UTC(2020, 0, 6, 15, 21, 48, 6),
      codecName: 'pcmu',
      region: 'us1',
      values: {
        jitterMaxSeconds: near(0.000122655),
        jitterAvgSeconds: near(0.0000292324),
        packetsSent: 477,
        packetsLost: 0,
      },
    });
  });

  it('accepts every kb-go record, in ascending time, alternating inbound and outbound', () => {
    const samples = KB_GO_CARRIER.map(accepted);
    expect(samples.map((s) => s.direction)).toEqual(['inbound', 'outbound', 'inbound', 'outbound', 'inbound', 'outbound', 'inbound', 'outbound']);
    expect(samples.map((s) => s.values.packetsReceived ?? s.values.packetsSent)).toEqual([478, 477, 978, 977, 1478, 1477, 1926, 1877]);
    const times = samples.map((s) => s.timestampMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
  });

  it('turns gateway records with interval (timestamps without ms) into samples with a loss ratio', () => {
    const [inbound, outbound] = GATEWAY_INTERVAL.map(accepted);
    expect(inbound).toStrictEqual({
      callSid: KB_CALL_SID,
      accountSid: ACCOUNT_SID,
      edge: 'sip_edge',
      direction: 'inbound',
      timestampMs: Date.UTC(2020, 9, 6, 12, 0, 0),
      codecName: 'pcmu',
      region: 'ie1',
      values: {
        packetLossRatio: 0.004,
        jitterMaxSeconds: near(0.0000134316),
        jitterAvgSeconds: near(0.00000553199),
        packetsReceived: 1478,
        packetsLost: 2,
      },
    });
    expect(outbound).toStrictEqual({
      callSid: KB_CALL_SID,
      accountSid: ACCOUNT_SID,
      edge: 'sip_edge',
      direction: 'outbound',
      timestampMs: Date.UTC(2020, 9, 6, 12, 0, 1),
      codecName: 'pcmu',
      region: 'ie1',
      values: {
        packetLossRatio: 0,
        jitterMaxSeconds: near(0.000158134),
        jitterAvgSeconds: near(0.000029147),
        packetsSent: 1477,
        packetsLost: 0,
      },
    });
  });

  it('converts packets_loss_percentage from percent to a ratio', () => {
    const s = accepted(sdk((r) => (r.sdk_edge.interval['packets_loss_percentage'] = 2.5)));
    expect(s.values.packetLossRatio).toBe(0.025);
  });

  it('reads the edge block named by `edge`, ignoring the others', () => {
    const s = accepted(sdk((r) => (r['carrier_edge'] = { cumulative: { packets_sent: -5 } })));
    expect(s.values.packetsSent).toBe(3934);
  });

  it('keeps sub-millisecond precision of timestamps and accepts 1 to 6 fraction digits', () => {
    expect(parseTimestamp('2020-01-06T15:21:48.006Z')).toBe(Date.UTC(2020, 0, 6, 15, 21, 48, 6));
    expect(parseTimestamp('2020-01-06T15:21:48.5Z')).toBe(Date.UTC(2020, 0, 6, 15, 21, 48, 500));
    expect(parseTimestamp('2020-01-06T15:21:48.123456Z')).toBe(Date.UTC(2020, 0, 6, 15, 21, 48, 123));
    expect(parseTimestamp('2019-02-28T23:59:59Z')).toBe(Date.UTC(2019, 1, 28, 23, 59, 59));
    expect(parseTimestamp('2020-02-29T00:00:00Z')).toBe(Date.UTC(2020, 1, 29));
  });
});

describe('parseTimestamp against Date.parse', () => {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  // Valid instants 1970..2099 written as Twilio does, with 0 to 6 fraction digits.
  const stamp = fc.record({ ms: fc.integer({ min: 0, max: Date.UTC(2099, 11, 31, 23, 59, 59, 999) }), digits: fc.integer({ min: 0, max: 6 }) }).map(({ ms, digits }) => {
    const d = new Date(ms);
    const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    const fraction = digits === 0 ? '' : `.${pad(d.getUTCMilliseconds(), 3).padEnd(6, '7').slice(0, digits)}`;
    return { text: `${date}${fraction}Z`, ms: ms - (digits === 0 ? d.getUTCMilliseconds() : digits < 3 ? d.getUTCMilliseconds() % 10 ** (3 - digits) : 0) };
  });

  it('agrees on every valid timestamp, whatever the one parsed before (the hour it remembers)', () => {
    fc.assert(
      fc.property(fc.array(stamp, { minLength: 1, maxLength: 8 }), (stamps) => {
        for (const { text, ms } of stamps) {
          expect(parseTimestamp(text)).toBe(ms);
          expect(parseTimestamp(text)).toBe(Date.parse(text));
        }
      }),
      { numRuns: 2000 },
    );
  });

  // The rule in its plainest form: the shape as a regular expression, then the fields round-tripped through Date.
  function reference(text: string): number {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$/.exec(text);
    if (!m) return Number.NaN;
    const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
    const at = new Date(0);
    at.setUTCFullYear(y, mo - 1, d);
    at.setUTCHours(h, mi, sec, m[7] ? Number(m[7].slice(1, 4).padEnd(3, '0')) : 0);
    const same = at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d && at.getUTCHours() === h && at.getUTCMinutes() === mi && sec < 60;
    return same ? at.getTime() : Number.NaN;
  }

  it('refuses exactly what the shape or the calendar refuses, on mutated timestamps', () => {
    const mutated = fc
      .tuple(stamp, fc.nat(), fc.constantFrom('0', '9', '-', ':', '.', 'T', 'Z', 'z', ' ', '٣', 'x', ''), fc.boolean())
      .map(([{ text }, at, ch, insert]) => {
        const i = at % (text.length + 1);
        return insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + ch + text.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        const want = reference(text);
        if (Number.isNaN(want)) expect(parseTimestamp(text), text).toBeNaN();
        else expect(parseTimestamp(text), text).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses an impossible date in the hour it remembers, and a good one after a bad one', () => {
    expect(parseTimestamp('2019-02-28T23:59:59Z')).toBe(Date.UTC(2019, 1, 28, 23, 59, 59));
    expect(parseTimestamp('2019-02-28T23:60:00Z')).toBeNaN();
    expect(parseTimestamp('2019-02-29T23:00:00Z')).toBeNaN();
    expect(parseTimestamp('2019-02-28T23:00:00.25Z')).toBe(Date.UTC(2019, 1, 28, 23, 0, 0, 250));
    expect(parseTimestamp('2019-03-01T00:00:00Z')).toBe(Date.UTC(2019, 2, 1));
  });
});

describe('parseMetricRecord in a fresh process', () => {
  it('rejects an empty call_sid or account_sid as the very first record, before any SID was remembered', async () => {
    vi.resetModules();
    const fresh = await import('../../../src/samples/parse.ts');
    const record = structuredClone(SPEC_SDK[0]) as Json;
    record['call_sid'] = '';
    expect(fresh.parseMetricRecord(record)).toMatchObject({ ok: false, reason: 'bad_call_sid' });
    vi.resetModules();
    const again = await import('../../../src/samples/parse.ts');
    const other = structuredClone(SPEC_SDK[0]) as Json;
    other['account_sid'] = '';
    expect(again.parseMetricRecord(other)).toMatchObject({ ok: false, reason: 'bad_account_sid' });
  });
});

describe('parseMetricRecord with interleaved calls (issue 14: pushed batches mix many calls)', () => {
  it('accepts every valid call SID and refuses every bad one, past the size of its SID memory', () => {
    const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10_000; i += 7) {
        expect(accepted(gateway((r) => (r['call_sid'] = sid(i)))).callSid).toBe(sid(i));
        expect(rejectedWith(gateway((r) => (r['call_sid'] = `${sid(i)}0`)))).toBe('bad_call_sid');
        expect(rejectedWith(gateway((r) => (r['call_sid'] = sid(i).toLowerCase().replace('ca', 'CB'))))).toBe('bad_call_sid');
      }
    }
  });
});

describe('parseMetricRecord rejects', () => {
  it('covers every reject reason with the cases below', () => {
    // If a reason is added, this list and the cases must grow with it.
    expect([...REJECT_REASONS].sort()).toEqual(
      [
        'bad_account_sid', 'bad_call_sid', 'bad_direction', 'bad_edge', 'bad_timestamp', 'bad_value', 'future_timestamp',
        'missing_edge_data', 'not_object', 'wrong_account', 'wrong_call', 'wrong_edge',
      ],
    );
  });

  it('bad_timestamp: an array nested 200000 deep is described without walking it', () => {
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const result = sdk((r) => (r['timestamp'] = deep));
    const parsed = parseMetricRecord(result);
    expect(parsed).toMatchObject({ ok: false, reason: 'bad_timestamp', detail: 'timestamp an array is not ISO 8601 UTC' });
  });

  it('describes a long string by its first 40 characters and its length', () => {
    expect(describeValue('x'.repeat(10_000))).toBe(`"${'x'.repeat(40)}"… (10000 characters)`);
    expect(describeValue({ a: 1 })).toBe('a object');
    expect(describeValue(undefined)).toBe('missing');
  });

  it.each([
    ['null', null],
    ['an array', [SPEC_SDK[0]]],
    ['a string', '{"call_sid":"CA…"}'],
    ['a number', 42],
    ['undefined', undefined],
  ])('not_object: %s', (_name, raw) => {
    expect(rejectedWith(raw)).toBe('not_object');
  });

  it.each([
    ['missing', (r: Json) => delete r['call_sid']],
    ['null', (r: Json) => (r['call_sid'] = null)],
    ['a number', (r: Json) => (r['call_sid'] = 7569)],
    ['the redacted kb-go value', (r: Json) => (r['call_sid'] = 'NO00ed1fb4aa449be2434d54ec8e411abc')],
    ['lower-case prefix', (r: Json) => (r['call_sid'] = 'ca7569efe0253644fa4a88aa97beca3310')],
    ['one hex digit short', (r: Json) => (r['call_sid'] = 'CA7569efe0253644fa4a88aa97beca331')],
    ['one hex digit long', (r: Json) => (r['call_sid'] = 'CA7569efe0253644fa4a88aa97beca33100')],
    ['a non-hex digit', (r: Json) => (r['call_sid'] = 'CA7569efe0253644fa4a88aa97beca331g')],
    ['trailing newline', (r: Json) => (r['call_sid'] = 'CA7569efe0253644fa4a88aa97beca3310\n')],
  ])('bad_call_sid: %s', (_name, edit) => {
    expect(rejectedWith(sdk(edit))).toBe('bad_call_sid');
  });

  it.each([
    ['missing', (r: Json) => delete r['account_sid']],
    ['the redacted kb-go value', (r: Json) => (r['account_sid'] = 'AC...')],
    ['a call SID', (r: Json) => (r['account_sid'] = CALL_SID)],
    ['an API key SID', (r: Json) => (r['account_sid'] = 'SK998c10b68cbfda9f67277f7d8f4439c9')],
  ])('bad_account_sid: %s', (_name, edit) => {
    expect(rejectedWith(sdk(edit))).toBe('bad_account_sid');
  });

  it.each([
    ['unknown_edge (no stream to key it to)', 'unknown_edge'],
    ['an unknown name', 'media_edge'],
    ['wrong case', 'SDK_EDGE'],
    ['an inherited property name', '__proto__'],
    ['null', null],
    ['a number', 1],
  ])('bad_edge: %s', (_name, edge) => {
    expect(rejectedWith(sdk((r) => (r['edge'] = edge)))).toBe('bad_edge');
  });

  it('bad_edge: missing', () => {
    expect(rejectedWith(sdk((r) => delete r['edge']))).toBe('bad_edge');
  });

  it.each([
    ['an unknown name', 'sideways'],
    ['wrong case', 'Inbound'],
    ['null', null],
    ['a boolean', true],
  ])('bad_direction: %s', (_name, direction) => {
    expect(rejectedWith(sdk((r) => (r['direction'] = direction)))).toBe('bad_direction');
  });

  it.each([
    ['no zone', '2019-10-07T22:32:06'],
    ['a numeric offset without a colon', '2019-10-07T22:32:06+0000'],
    ['an offset past a day', '2019-10-07T22:32:06+24:00'],
    ['a space for T', '2019-10-07 22:32:06Z'],
    ['lower-case z', '2019-10-07T22:32:06z'],
    ['date only', '2019-10-07'],
    ['no seconds', '2019-10-07T22:32Z'],
    ['7 fraction digits', '2019-10-07T22:32:06.1234567Z'],
    ['an empty fraction', '2019-10-07T22:32:06.Z'],
    ['RFC 2822', 'Mon, 07 Oct 2019 22:32:06 +0000'],
    ['epoch seconds as a string', '1570487526'],
    ['epoch milliseconds as a number', 1570487526000],
    ['empty', ''],
    ['null', null],
    ['month 13', '2019-13-07T22:32:06Z'],
    ['hour 25', '2019-10-07T25:32:06Z'],
    ['a leap second', '2019-10-07T23:59:60Z'],
    ['30 February (Date.parse rolls it to 2 March)', '2019-02-30T00:00:00Z'],
    ['29 February of a common year', '2019-02-29T12:00:00Z'],
    ['31 April', '2019-04-31T00:00:00Z'],
    ['24:00 (Date.parse rolls it to the next day)', '2019-10-07T24:00:00Z'],
  ])('bad_timestamp: %s', (_name, timestamp) => {
    expect(rejectedWith(sdk((r) => (r['timestamp'] = timestamp)))).toBe('bad_timestamp');
    expect(parseTimestamp(timestamp)).toBeNaN();
  });

  // Probe E #7: a pushed record dated year 0 showed twilio_call_sample_timestamp_seconds -62167219200.
  it.each([
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['the Unix epoch', '1970-01-01T00:00:00Z'],
    ['the last moment of 2009', '2009-12-31T23:59:59.999Z'],
  ])('bad_timestamp: %s, before Voice Insights existed', (_name, timestamp) => {
    expect(rejectedWith(sdk((r) => (r['timestamp'] = timestamp)))).toBe('bad_timestamp');
    expect(accepted(sdk((r) => (r['timestamp'] = '2010-01-01T00:00:00Z'))).timestampMs).toBe(Date.UTC(2010, 0, 1));
  });

  it('bad_timestamp: missing', () => {
    expect(rejectedWith(sdk((r) => delete r['timestamp']))).toBe('bad_timestamp');
  });

  it.each([
    ['null (the edge named is empty)', null],
    ['an array', [{ interval: {} }]],
    ['a string', 'n/a'],
    ['a number', 0],
  ])('missing_edge_data: %s', (_name, data) => {
    expect(rejectedWith(sdk((r) => ((r as Json)['sdk_edge'] = data)))).toBe('missing_edge_data');
  });

  it('missing_edge_data: the edge key is absent while another edge holds data', () => {
    const r = gateway((g) => {
      g['sip_edge'] = g.carrier_edge;
      delete (g as Json)['carrier_edge'];
    });
    expect(rejectedWith(r)).toBe('missing_edge_data');
  });

  const badValues: [string, (r: Json & { sdk_edge: Json & { interval: Json; cumulative: Json } }) => void][] = [
    ['mos as a numeric string', (r) => (r.sdk_edge.interval['mos'] = { value: '4.39' })],
    ['mos as "NaN"', (r) => (r.sdk_edge.interval['mos'] = { value: 'NaN' })],
    ['rtt as "Infinity"', (r) => (r.sdk_edge.interval['rtt'] = { value: 'Infinity' })],
    ['jitter as a boolean', (r) => (r.sdk_edge.interval['jitter'] = { value: true })],
    ['mos not wrapped in {value}', (r) => (r.sdk_edge.interval['mos'] = 4.39)],
    ['mos wrapper is an array', (r) => (r.sdk_edge.interval['mos'] = [4.39])],
    ['mos above 5', (r) => (r.sdk_edge.interval['mos'] = { value: 5.01 })],
    ['mos negative', (r) => (r.sdk_edge.interval['mos'] = { value: -1 })],
    ['loss percentage above 100', (r) => (r.sdk_edge.interval['packets_loss_percentage'] = 100.5)],
    ['loss percentage negative', (r) => (r.sdk_edge.interval['packets_loss_percentage'] = -0.1)],
    ['loss percentage as a string', (r) => (r.sdk_edge.interval['packets_loss_percentage'] = '0.4')],
    ['rtt negative', (r) => (r.sdk_edge.interval['rtt'] = { value: -81 })],
    ['audio level above 65535', (r) => (r.sdk_edge.interval['audio_in'] = { value: 70000 })],
    ['cumulative packets_sent negative', (r) => (r.sdk_edge.cumulative['packets_sent'] = -1)],
    ['cumulative bytes_received negative', (r) => (r.sdk_edge.cumulative['bytes_received'] = -547788)],
    ['cumulative packets_lost as a string', (r) => (r.sdk_edge.cumulative['packets_lost'] = '0')],
    ['cumulative counter above 2^53', (r) => (r.sdk_edge.cumulative['bytes_sent'] = 2 ** 60)],
    ['interval packets_received negative', (r) => (r.sdk_edge.interval['packets_received'] = -50)],
    ['interval is a string', (r) => ((r.sdk_edge as Json)['interval'] = 'none')],
    ['interval is an array', (r) => ((r.sdk_edge as Json)['interval'] = [])],
    ['cumulative is a number', (r) => ((r.sdk_edge as Json)['cumulative'] = 3900)],
  ];
  it.each(badValues)('bad_value: %s', (_name, edit) => {
    expect(rejectedWith(sdk(edit))).toBe('bad_value');
  });

  it.each([
    ['jitter avg negative', (r: Json & { carrier_edge: Json & { cumulative: Json & { jitter: Json } } }) => (r.carrier_edge.cumulative.jitter['avg'] = -0.1)],
    ['jitter max as a string', (r: Json & { carrier_edge: Json & { cumulative: Json & { jitter: Json } } }) => (r.carrier_edge.cumulative.jitter['max'] = '0.01')],
    ['jitter block is a number', (r: Json & { carrier_edge: Json & { cumulative: Json & { jitter: Json } } }) => ((r.carrier_edge.cumulative as Json)['jitter'] = 0.01)],
  ])('bad_value on a gateway record: %s', (_name, edit) => {
    expect(rejectedWith(gateway(edit))).toBe('bad_value');
  });

  it('names the offending field in the detail', () => {
    const result = parseMetricRecord(sdk((r) => (r.sdk_edge.interval['mos'] = { value: 9 })));
    expect(result).toMatchObject({ ok: false, reason: 'bad_value', detail: expect.stringContaining('sdk_edge.interval.mos.value') as unknown });
  });
});

describe('parseMetricRecord keeps absent fields absent', () => {
  it('null measurements and null blocks mean "not sent", not zero', () => {
    const s = accepted(
      sdk((r) => {
        r.sdk_edge.interval['mos'] = null;
        r.sdk_edge.interval['rtt'] = { value: null };
        r.sdk_edge.interval['jitter'] = {};
        (r.sdk_edge as Json)['cumulative'] = null;
      }),
    );
    expect(s.values).toStrictEqual({ audioInLevel: 81, audioOutLevel: 5237 });
  });

  it('an edge block with neither interval nor cumulative is a sample with no values', () => {
    const s = accepted(sdk((r) => ((r as Json)['sdk_edge'] = { codec_name: 'opus' })));
    expect(s.values).toStrictEqual({});
    expect(s.codecName).toBe('opus');
  });

  it('an empty codec name, a non-string region and a non-object metadata are dropped, not kept as labels', () => {
    expect(Object.keys(accepted(gateway((r) => (r.carrier_edge['codec_name'] = ''))))).not.toContain('codecName');
    expect(Object.keys(accepted(gateway((r) => (r.carrier_edge['metadata'] = { region: 1 }))))).not.toContain('region');
    expect(Object.keys(accepted(gateway((r) => (r.carrier_edge['metadata'] = 'us1'))))).not.toContain('region');
  });

  // Regression test (probe B, defect 2): a 150,000-character codec name became a 150,167-character
  // twilio_call_info line, which fails the whole scrape of a Prometheus with label_value_length_limit, and was
  // saved into a state file that the next start refused whole.
  it.each([
    ['65 characters', 'x'.repeat(65)],
    ['150,000 characters', 'x'.repeat(150_000)],
    ['a newline', 'opus\nx'],
    ['a NUL', 'opus\u0000'],
    ['a DEL', 'opus\u007f'],
    ['a C1 control', 'opus\u0085'],
    ['a lone surrogate', 'opus\ud800'],
  ])('a codec name or region with %s is dropped, and the sample is kept', (_what, odd) => {
    const s = accepted(
      gateway((r) => {
        r.carrier_edge['codec_name'] = odd;
        r.carrier_edge['metadata'] = { region: odd };
      }),
    );
    expect(Object.keys(s)).not.toContain('codecName');
    expect(Object.keys(s)).not.toContain('region');
    expect(s.values.packetsReceived).toBeDefined();
  });

  it('keeps a codec name and region of up to 64 printable characters, quotes, backslashes and non-ASCII included', () => {
    const printable = `opus "stereo" \\ ü 🎧 ${'x'.repeat(64)}`.slice(0, 64);
    const s = accepted(
      gateway((r) => {
        r.carrier_edge['codec_name'] = printable;
        r.carrier_edge['metadata'] = { region: 'x'.repeat(64) };
      }),
    );
    expect(s.codecName).toBe(printable);
    expect(s.region).toBe('x'.repeat(64));
  });

  it('accepts the boundaries of every range', () => {
    const s = accepted(
      sdk((r) => {
        r.sdk_edge.interval['mos'] = { value: 5 };
        r.sdk_edge.interval['packets_loss_percentage'] = 100;
        r.sdk_edge.interval['rtt'] = { value: 0 };
        r.sdk_edge.cumulative['packets_lost'] = 0;
      }),
    );
    expect(s.values).toMatchObject({ mos: 5, packetLossRatio: 1, rttSeconds: 0, packetsLost: 0 });
  });
});

// ---- properties ----

const hex32 = fc.stringMatching(/^[0-9a-fA-F]{32}$/);
const isoTime = fc
  .tuple(
    fc.date({ min: new Date('2010-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.boolean(),
  )
  .map(([d, withMs]) => ({ text: withMs ? d.toISOString() : d.toISOString().replace(/\.\d{3}Z$/, 'Z'), ms: withMs ? d.getTime() : Math.floor(d.getTime() / 1000) * 1000 }));
const pct = fc.double({ min: 0, max: 100, noNaN: true });
const count = fc.nat({ max: 2 ** 40 });
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.option(arb, { nil: undefined }).chain((v) => (v === undefined ? fc.constantFrom(undefined, null) : fc.constant(v)));

// Records shaped like Twilio's: either edge kind, any subset of measurements, each valid.
const validRecord = fc
  .record({
    call: hex32,
    account: hex32,
    time: isoTime,
    edge: fc.constantFrom('carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge'),
    direction: fc.constantFrom('inbound', 'outbound', 'both', 'unknown'),
    mos: optional(fc.double({ min: 1, max: 4.5, noNaN: true })),
    rtt: optional(fc.integer({ min: 0, max: 5000 })),
    jitter: optional(fc.double({ min: 0, max: 1000, noNaN: true })),
    audioIn: optional(fc.integer({ min: 0, max: 32767 })),
    loss: optional(pct),
    jitterAvg: optional(fc.double({ min: 0, max: 1000, noNaN: true })),
    sent: optional(count),
    received: optional(count),
    lost: optional(count),
    bytes: optional(count),
    codecName: optional(fc.constantFrom('pcmu', 'opus', 'pcma')),
  })
  .map((v) => {
    const interval: Json = {};
    if (v.mos !== undefined) interval['mos'] = v.mos === null ? null : { value: v.mos };
    if (v.rtt !== undefined) interval['rtt'] = v.rtt === null ? null : { value: v.rtt };
    if (v.jitter !== undefined) interval['jitter'] = v.jitter === null ? null : { value: v.jitter };
    if (v.audioIn !== undefined) interval['audio_in'] = v.audioIn === null ? null : { value: v.audioIn };
    if (v.loss !== undefined) interval['packets_loss_percentage'] = v.loss;
    const cumulative: Json = { jitter: { avg: v.jitterAvg } };
    if (v.sent !== undefined) cumulative['packets_sent'] = v.sent;
    if (v.received !== undefined) cumulative['packets_received'] = v.received;
    if (v.lost !== undefined) cumulative['packets_lost'] = v.lost;
    if (v.bytes !== undefined) cumulative['bytes_sent'] = v.bytes;
    const record: Json = {
      timestamp: v.time.text,
      call_sid: `CA${v.call}`,
      account_sid: `AC${v.account}`,
      edge: v.edge,
      direction: v.direction,
      carrier_edge: null,
      sip_edge: null,
      sdk_edge: null,
      client_edge: null,
    };
    record[v.edge] = { interval, cumulative, ...(v.codecName !== undefined && { codec_name: v.codecName }) };
    return { record, v };
  });

function checkInRange(s: Sample): void {
  expect(Number.isFinite(s.timestampMs)).toBe(true);
  const v = s.values;
  for (const [key, value] of Object.entries(v)) {
    expect(typeof value, key).toBe('number');
    expect(Number.isFinite(value), key).toBe(true);
    expect(value, key).toBeGreaterThanOrEqual(0);
  }
  if (v.mos !== undefined) expect(v.mos).toBeLessThanOrEqual(5);
  if (v.packetLossRatio !== undefined) expect(v.packetLossRatio).toBeLessThanOrEqual(1);
  for (const level of [v.audioInLevel, v.audioOutLevel]) if (level !== undefined) expect(level).toBeLessThanOrEqual(65535);
  for (const c of [v.packetsSent, v.packetsReceived, v.packetsLost, v.bytesSent, v.bytesReceived]) {
    if (c !== undefined) expect(c).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
  }
}

// Mixes real values and arbitrary JSON at every level so the deep branches of the parser are reached.
const anyJson = fc.jsonValue().map((j) => JSON.parse(JSON.stringify(j)) as unknown);
const mutated = validRecord.chain(({ record }) =>
  fc
    .array(fc.tuple(fc.constantFrom('timestamp', 'call_sid', 'edge', 'direction', 'sdk_edge', 'carrier_edge', 'interval', 'cumulative', 'mos', 'jitter'), anyJson), { maxLength: 3 })
    .map((edits) => {
      const r = structuredClone(record);
      const data = r[r['edge'] as string] as Json;
      const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
      for (const [key, value] of edits) {
        if (key === 'interval' || key === 'cumulative') data[key] = value;
        else if (key === 'mos' && isObj(data['interval'])) data['interval']['mos'] = value;
        else if (key === 'jitter' && isObj(data['cumulative'])) data['cumulative']['jitter'] = value;
        else r[key] = value;
      }
      return r;
    }),
);

describe('parseMetricRecord properties', () => {
  it('never throws on arbitrary JSON, and anything it accepts is finite and in range', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, mutated), (raw) => {
        const result = parseMetricRecord(raw);
        if (result.ok) checkInRange(result.sample);
        else expect(REJECT_REASONS).toContain(result.reason);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every valid-shaped record and converts each value exactly', () => {
    fc.assert(
      fc.property(validRecord, ({ record, v }) => {
        const s = accepted(record);
        checkInRange(s);
        expect(s.callSid).toBe(`CA${v.call}`);
        expect(s.timestampMs).toBe(v.time.ms);
        expect(s.values.mos).toBe(v.mos ?? undefined);
        expect(s.values.rttSeconds).toBe(v.rtt == null ? undefined : v.rtt / 1000);
        expect(s.values.packetLossRatio).toBe(v.loss == null ? undefined : v.loss / 100);
        expect(s.values.jitterAvgSeconds).toBe(v.jitterAvg == null ? undefined : v.jitterAvg / 1000);
        expect(s.values.packetsSent).toBe(v.sent ?? undefined);
        expect(s.values.bytesSent).toBe(v.bytes ?? undefined);
        expect(s.codecName).toBe(v.codecName ?? undefined);
        // Absent stays absent: no key is present with an undefined value.
        for (const value of Object.values(s.values)) expect(value).not.toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});

describe('checkScope', () => {
  const sample = (): Sample => accepted(SPEC_SDK[0]);
  const scope = () => ({ callSid: sample().callSid, accountSid: sample().accountSid, edge: sample().edge, notAfterMs: sample().timestampMs });

  it('accepts a record of the query dated up to the limit', () => {
    expect(checkScope(sample(), scope())).toEqual({ ok: true, sample: sample() });
  });

  it.each([
    ['wrong_call', { callSid: 'CA00000000000000000000000000000000' }],
    ['wrong_account', { accountSid: 'AC00000000000000000000000000000000' }],
    ['wrong_edge', { edge: 'carrier_edge' as const }],
    ['future_timestamp', { notAfterMs: sample().timestampMs - 1 }],
  ])('%s', (reason, change) => {
    expect(checkScope(sample(), { ...scope(), ...change })).toMatchObject({ ok: false, reason });
  });

  it('does not check the edge of a query that sent none', () => {
    const { edge: _edge, ...noEdge } = scope();
    expect(checkScope({ ...sample(), edge: 'client_edge' }, noEdge).ok).toBe(true);
  });
});
