import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, seriesOf } from '../../helpers/exporter.ts';
import { ACCOUNT_1, ACCOUNT_2, sleep, startExporter } from './hostile-exporter.ts';
import { hostileInsights } from './hostile-insights.ts';
import type { FakeCall } from './hostile-insights.ts';
import { DEFAULT_MAX_LATENESS_MS } from '../../../src/poller/cursor.ts';
import { readBudget } from '../../../src/poller/read-budget.ts';

// Regression test for issue 11 item 1: an upstream whose next_page_url always names a new page kept one poll
// running forever and every record in memory. Each poll now reads a bounded number of pages and goes on next poll.

const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;

// page_size 50, poll_interval 1s: the budget covers the 15-minute lateness read-back (1.5 × max_sample_lateness)
// plus one interval.
const PAGES_PER_POLL = readBudget(50, 1.5 * DEFAULT_MAX_LATENESS_MS + 1000).maxPages;

describe('endless paging', () => {
  it('stops each poll at the page cap, keeps what it read in order, counts it, and goes on next poll', async () => {
    const endless: FakeCall = { callSid: sid(0xe1), accountSid: ACCOUNT_2, behaviour: 'endless' };
    const good: FakeCall = { callSid: sid(0x60), accountSid: ACCOUNT_1, behaviour: 'good' };
    const fake = await hostileInsights({ calls: [endless, good] });
    onTestFinished(() => fake.close());
    const exp = await startExporter(fake, {
      page_size: 50,
      calls: [endless, good].map((c) => ({ call_sid: c.callSid, account_sid: c.accountSid })),
    });

    const capped = async (): Promise<number> => exp.total('twilio_insights_exporter_paging_stopped_total', { account_sid: ACCOUNT_2, reason: 'page_cap' });
    await eventually(async () => ((await capped()) >= 1 ? true : undefined), 8_000, 'a poll stopped at the cap');
    const newest = async (): Promise<number> =>
      Math.max(...seriesOf(await exp.scrape(), 'twilio_call_sample_timestamp_seconds').filter((s) => s.labels['call_sid'] === endless.callSid).map((s) => s.value));
    const before = await newest();
    await eventually(async () => ((await capped()) >= 3 ? true : undefined), 8_000, 'three polls stopped at the cap');
    await sleep(200);

    // Every page read is paid for by a poll: no poll runs on past its cap.
    const polls = await exp.total('twilio_insights_exporter_poll_duration_seconds_count', { account_sid: ACCOUNT_2 });
    const requests = fake.metricsRequests.get(endless.callSid) ?? 0;
    expect(requests).toBeLessThanOrEqual((polls + 1) * PAGES_PER_POLL);
    // Each poll went on from where the previous one stopped: the stream moved on by whole capped reads (less the
    // page each resumed read takes again, and the two pages of 50 ten-second records a lateness read-back re-reads).
    expect(await newest()).toBeGreaterThanOrEqual(before + 2 * (PAGES_PER_POLL - 3) * 50 * 10);
    // The other account's call is untouched.
    expect(seriesOf(await exp.scrape(), 'twilio_insights_exporter_up').every((s) => s.value === 1)).toBe(true);
    expect(await exp.total('twilio_voice_samples_total', { account_sid: ACCOUNT_1 })).toBeGreaterThan(0);
  }, 30_000);
});
