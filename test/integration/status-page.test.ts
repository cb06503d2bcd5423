import { writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { eventually, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { basicAuth, startTestSimulator } from '../helpers/simulator.ts';
import type { TestSimulator } from '../helpers/simulator.ts';

// Strings Twilio could send back (codec name, media region), each trying to break out of text or an attribute.
// Printable and at most 64 characters: anything else never reaches the store (test/unit/samples/parse.test.ts).
const HOSTILE_CODEC = `"><script>alert('codec')</script>&x`;
const HOSTILE_REGION = `us1' onmouseover="alert(1)" data-x="`;
const AUTH = { authorization: basicAuth('ops', 'status-pass') };

describe('status page over HTTP, with hostile strings from the simulator and basic auth on', () => {
  let sim: TestSimulator;
  let exp: TestExporter;
  const sids: string[] = [];

  beforeAll(async () => {
    sim = await startTestSimulator();
    const hostile = await sim.control.createCall({ type: 'carrier', age_seconds: 120, codec_name: HOSTILE_CODEC, region: HOSTILE_REGION });
    const client = await sim.control.createCall({ type: 'client', age_seconds: 120, degraded: true });
    const sip = await sim.control.createCall({ type: 'sip', age_seconds: 120 });
    const refused = await sim.control.createCall({ type: 'sip', age_seconds: 120 });
    sids.push(hostile.sid, client.sid, sip.sid, refused.sid);
    exp = await startTestExporter(
      sim.url,
      { calls: sids, max_calls: 3, grafana: { url: 'https://grafana.example.com/' } },
      { webConfig: { users: new Map([['ops', bcrypt.hashSync('status-pass', 4)]]) } },
    );
    await eventually(() => (exp.exporter.store.get(hostile.sid)?.codecName === HOSTILE_CODEC ? true : undefined), 20_000, 'the hostile call polled');
    await eventually(() => (exp.exporter.store.get(client.sid)?.streams.size === 3 ? true : undefined), 20_000, 'the client call polled');
  }, 60_000);

  afterAll(async () => {
    await exp.close();
    await sim.close();
  });

  const get = (path: string, headers: Record<string, string> = AUTH): Promise<Response> => fetch(`${exp.url}${path}`, { headers });

  it('requires the web config\u2019s basic auth on / and /calls/{CallSid}', async () => {
    expect((await get('/', {})).status).toBe(401);
    expect((await get(`/calls/${sids[0]}`, {})).status).toBe(401);
    expect((await get('/', { authorization: basicAuth('ops', 'wrong') })).status).toBe(401);
  });

  it('lists the tracked calls with account, type, sources, state and per-edge values, and no script or external asset', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await res.text();
    for (const sid of sids.slice(0, 3)) expect(body).toContain(`<tr data-call="${sid}">`);
    expect(body).not.toContain(`data-call="${sids[3]}"`);
    expect(body).toContain('ACdec0de00000000000000000000000000');
    expect(body).toMatch(/<td>client<\/td><td>config<\/td><td><span class="badge state-active">active<\/span>/);
    expect(body).toContain('<code>sdk_edge/both</code></td><td>MOS ');
    expect(body).toContain('3 of at most 3 calls tracked');
    // No JavaScript, nothing loaded from elsewhere.
    expect(body).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
  });

  it('escapes what Twilio sent: the hostile codec and region never become markup', async () => {
    const body = await (await get(`/calls/${sids[0]}`)).text();
    expect(body).toContain('codec &quot;&gt;&lt;script&gt;alert(&#39;codec&#39;)&lt;/script&gt;&amp;x;');
    expect(body).toContain('media region us1&#39; onmouseover=&quot;alert(1)&quot; data-x=&quot;;');
    expect(body).not.toContain('<script');
    expect(body).not.toContain('onmouseover="');
  });

  it('a call page shows sparklines, the cursor, the poll log and the Console and Grafana links', async () => {
    const body = await (await get(`/calls/${sids[1]}`)).text();
    expect((body.match(/<svg class="spark"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(body).toMatch(/<polyline points="[\d., ]+"\/>/);
    expect(body).toMatch(/<td><code>sdk_edge<\/code><\/td><td>(asc|desc)<\/td>/);
    expect(body).toMatch(/<tr><td>\d+ s ago<\/td>\n<td><span class="ok">ok<\/span><\/td>\n<td class="num">\d+ ms<\/td><td class="num">\d+<\/td><td class="num">\d+<\/td>/);
    expect(body).toContain(`href="https://console.twilio.com/us1/monitor/logs/calls?frameUrl=%2Fconsole%2Fvoice%2Fcalls%2Flogs%2F${sids[1]}"`);
    expect(body).toContain(`href="https://grafana.example.com/d/twilio-voice-call/twilio-voice-call?var-call_sid=${sids[1]}"`);
    expect(body).toContain('Tracked <span class="badge state-active">active</span>');
  });

  it('says why a call is not tracked: refused by max_calls', async () => {
    const body = await (await get(`/calls/${sids[3]}`)).text();
    expect(body).toContain('Not tracked: refused at');
    expect(body).toContain('because max_calls (3) was reached; announced by config.');
  });

  it('filters by state, account and issue through the query string', async () => {
    expect(await (await get('/?state=active')).text()).toContain(`data-call="${sids[0]}"`);
    expect(await (await get('/?state=ended')).text()).toContain('No call matches.');
    expect(await (await get(`/?account=${DEMO_ACCOUNT.accountSid}&state=active`)).text()).toContain('3 matching');
    const byIssue = await (await get('/?issue=low_mos')).text();
    const listed = [...byIssue.matchAll(/data-call="(CA[0-9a-f]{32})"/g)].map((m) => m[1]);
    for (const sid of listed) expect(exp.exporter.store.get(sid!)).toBeDefined();
    expect(byIssue).toContain('<option value="low_mos" selected>');
  });

  it('shows the last page, with no link past it, for a page number past the end', async () => {
    const text = await (await get('/?page=999999')).text();
    expect(text).toContain('page 1 of 1.');
    expect(text).toContain(`data-call="${sids[0]}"`);
    expect(text).not.toContain('rel="prev"');
  });

  it('refuses a bad query with 400 naming the parameter, without echoing the value', async () => {
    for (const [path, problem] of [
      ['/?state=%3Cscript%3E', 'state: must be one of active, draining, ended'],
      ['/?issue=%22%3E', 'issue: must be one of high_rtt, low_mos, high_jitter, high_packet_loss'],
      ['/?account=AC%3Cb%3E', 'account: must be one of the configured account SIDs'],
      ['/?page=0', 'page: must be a whole number from 1'],
      ['/?page=%3Cscript%3E', 'page: must be a whole number from 1'],
      ['/?state=active&state=ended', 'state: give it at most once'],
      ['/?page=1&page=2', 'page: give it at most once'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain(problem);
      expect(text).not.toMatch(/<script|<b>|">/);
    }
    const bad = await get('/calls/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('<script');
    expect((await get('/calls/CA0123456789abcdef0123456789abcdef')).status).toBe(404);
  });
});

describe('status page after a reload that changes the accounts', () => {
  it('shows an account a reload added as waiting for a restart, one it removed as still polled, and a renamed one by its new name', { timeout: 60_000 }, async () => {
    const sim = await startTestSimulator();
    const other = 'AC0000000000000000000000000000beef';
    const account = (sid: string, name: string) => ({ account_sid: sid, name, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url });
    const exp = await startTestExporter(sim.url, { accounts: [account(DEMO_ACCOUNT.accountSid, 'first name')] });
    try {
      const before = await (await fetch(`${exp.url}/`)).text();
      expect(before).toContain('first name');
      writeFileSync(exp.file, stringify({ accounts: [account(DEMO_ACCOUNT.accountSid, 'second name'), account(other, 'added')], log: { level: 'warn' } }));
      expect(exp.exporter.reload().ok).toBe(true);
      const after = await (await fetch(`${exp.url}/`)).text();
      expect(after).toContain('second name');
      expect(after).not.toContain('first name');
      expect(after).toMatch(new RegExp(`<span class="sid">${other}</span>[^]*?added by a reload: polled after a restart`));

      writeFileSync(exp.file, stringify({ accounts: [account(other, 'added')], log: { level: 'warn' } }));
      expect(exp.exporter.reload().ok).toBe(true);
      const removed = await (await fetch(`${exp.url}/`)).text();
      expect(removed).toMatch(new RegExp(`<span class="sid">${DEMO_ACCOUNT.accountSid}</span>[^]*?removed by a reload: polled until a restart`));
    } finally {
      await exp.close();
      await sim.close();
    }
  });
});
