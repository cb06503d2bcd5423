import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, seriesOf } from '../../helpers/exporter.ts';
import { ACCOUNT_1, ACCOUNT_2, sleep, startExporter } from './hostile-exporter.ts';
import type { LogLine, RunningExporter } from './hostile-exporter.ts';
import { hostileInsights } from './hostile-insights.ts';
import { NOT_FOUND_GRACE_MS } from '../../../src/poller/poller.ts';
import type { FakeCall, HostileInsights } from './hostile-insights.ts';

// Regression tests for issue 11 items 11 and 12, through an exporter started from a real config file
// against a fake Twilio over a real socket: `up` when the account cannot be reached, and logs per episode.

const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;
const WARN = 40;

async function setup(calls: FakeCall[], extra: Record<string, unknown> = {}, now?: () => number): Promise<{ fake: HostileInsights; exp: RunningExporter }> {
  const fake = await hostileInsights({ calls });
  onTestFinished(() => fake.close());
  const exp = await startExporter(fake, { calls: calls.map((c) => ({ call_sid: c.callSid, account_sid: c.accountSid })), ...extra }, now);
  return { fake, exp };
}

async function up(exp: RunningExporter, accountSid: string): Promise<number | undefined> {
  return seriesOf(await exp.scrape(), 'twilio_insights_exporter_up').find((s) => s.labels['account_sid'] === accountSid)?.value;
}

const upIs = (exp: RunningExporter, accountSid: string, value: number) => async () => ((await up(exp, accountSid)) === value ? true : undefined);

const about = (logs: LogLine[], key: string, value: string, minLevel = 0): LogLine[] => logs.filter((l) => l[key] === value && l.level >= minLevel);

describe('twilio_insights_exporter_up', () => {
  it('turns 0 while the account refuses connections, and 1 again once it answers', async () => {
    const good = [sid(1), sid(2)].map((callSid): FakeCall => ({ callSid, accountSid: ACCOUNT_1, behaviour: 'good' }));
    const { fake, exp } = await setup(good);
    await eventually(upIs(exp, ACCOUNT_1, 1), 8_000, 'up 1');

    await fake.outage('refuse');
    await eventually(upIs(exp, ACCOUNT_1, 0), 10_000, 'up 0 while connections are refused');

    // The circuit opened during the outage: the first probe goes out after its 15 s half-open wait.
    await fake.recover();
    await eventually(upIs(exp, ACCOUNT_1, 1), 25_000, 'up 1 after recovery');
  }, 50_000);

  it('turns 0 while every request to the account hangs', async () => {
    const good = [sid(3), sid(4)].map((callSid): FakeCall => ({ callSid, accountSid: ACCOUNT_1, behaviour: 'good' }));
    const { fake, exp } = await setup(good, { request_timeout: '1s' });
    await eventually(upIs(exp, ACCOUNT_1, 1), 8_000, 'up 1');

    await fake.outage('hang');
    await eventually(upIs(exp, ACCOUNT_1, 0), 15_000, 'up 0 while requests hang');
  }, 30_000);

  it('stays 1 while one call hangs and the account answers the others', async () => {
    const calls: FakeCall[] = [
      { callSid: sid(5), accountSid: ACCOUNT_1, behaviour: 'never_ending' },
      { callSid: sid(6), accountSid: ACCOUNT_1, behaviour: 'good' },
      { callSid: sid(7), accountSid: ACCOUNT_1, behaviour: 'good' },
    ];
    const { exp } = await setup(calls, { request_timeout: '1s' });
    await eventually(upIs(exp, ACCOUNT_1, 1), 8_000, 'up 1');
    const seen = new Set<number | undefined>();
    for (let i = 0; i < 12; i++) {
      seen.add(await up(exp, ACCOUNT_1));
      await sleep(500);
    }
    expect(seen).toEqual(new Set([1]));
  }, 30_000);
});

describe('logs during failures', () => {
  it('a call whose every poll fails is warned about once, not at debug on every poll', async () => {
    const html: FakeCall = { callSid: sid(8), accountSid: ACCOUNT_1, behaviour: 'html' };
    const { exp } = await setup([html]);
    await eventually(async () => ((await exp.total('twilio_insights_exporter_poll_duration_seconds_count', { account_sid: ACCOUNT_1 })) >= 3 ? true : undefined), 10_000, 'three polls');

    const warned = about(exp.logs, 'call_sid', html.callSid, WARN);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ code: 'bad_payload' });
  }, 20_000);

  it('discovery failing through an outage is warned about once, and its recovery says how many listings failed', async () => {
    const { fake, exp } = await setup([], { discovery: { enabled: true, interval: '1s' } });
    await eventually(() => (fake.callsListRequests >= 2 ? true : undefined), 5_000, 'discovery running');

    await fake.outage('calls_500');
    // Each listing retries its 503s with backoff for a second or two, so a fixed wait from the outage's start held
    // only one failed listing on a loaded machine. Wait for the first failure's warning, then hold the outage for
    // several more 1 s intervals (listings fail fast once the circuit is open).
    await eventually(() => about(exp.logs, 'account_sid', ACCOUNT_1, WARN).find((l) => /discovery/.test(l.msg)), 20_000, 'the first failed listing');
    await sleep(5_000);
    await fake.recover();
    // Listings failing fast on an open circuit count too; the first probe goes out after 15 s.
    const recovered = await eventually(
      () => about(exp.logs, 'account_sid', ACCOUNT_1).find((l) => typeof l['failures'] === 'number' && l.level < WARN),
      25_000,
      'a recovery line',
    );

    for (const account of [ACCOUNT_1, ACCOUNT_2]) {
      expect(about(exp.logs, 'account_sid', account, WARN).filter((l) => /discovery/.test(l.msg))).toHaveLength(1);
    }
    expect(recovered['failures']).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a call answered 404 on every edge is ended once the grace for its first samples is over, then never asked again, and logged once', async () => {
    const gone: FakeCall = { callSid: sid(9), accountSid: ACCOUNT_1, behaviour: 'not_found' };
    // The exporter's clock, moved past the grace by the test.
    let skew = 0;
    const { fake, exp } = await setup([gone], {}, () => Date.now() + skew);
    await eventually(() => ((fake.metricsRequests.get(gone.callSid) ?? 0) > 0 ? true : undefined), 5_000, 'the first poll');
    expect(exp.exporter.registry.get(gone.callSid)?.endedAtMs).toBeUndefined();
    skew = NOT_FOUND_GRACE_MS;
    await eventually(() => (exp.exporter.registry.get(gone.callSid)?.endedAtMs !== undefined ? true : undefined), 5_000, 'the end');
    const asked = fake.metricsRequests.get(gone.callSid);
    await sleep(3_000);

    // Nothing after the poll that ended it (each poll asks the four edges while the call type is unknown).
    expect(fake.metricsRequests.get(gone.callSid)).toBe(asked);
    expect(asked! % 4).toBe(0);
    expect(about(exp.logs, 'call_sid', gone.callSid).filter((l) => /404/.test(l.msg))).toHaveLength(1);
  }, 20_000);
});
