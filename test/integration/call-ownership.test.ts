import { readFileSync, writeFileSync } from 'node:fs';
import twilio from 'twilio';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const ONE = { accountSid: 'AC0e0000000000000000000000000000a1', authToken: 'token-of-account-one' };
const TWO = { accountSid: 'AC0e0000000000000000000000000000a2', authToken: 'token-of-account-two' };
const CALL = `CA${'1'.repeat(32)}`;
const TOKEN = 'adm1n-t0ken';

const accountEntry = (a: { accountSid: string; authToken: string }, url: string) => ({
  account_sid: a.accountSid,
  auth_token: a.authToken,
  insights_base_url: url,
  api_base_url: url,
});

const admin = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('status callbacks touch only calls of the account that signed them', () => {
  it('a callback signed with account two\'s token cannot end or claim account one\'s call', async () => {
    sim = await startSimulator({ lagSeconds: 0, accounts: [ONE, TWO] });
    exp = await startTestExporter(sim.url, { accounts: [accountEntry(ONE, sim.url), accountEntry(TWO, sim.url)], admin: { bearer_token: TOKEN } });
    expect((await admin(exp.url, 'PUT', `/calls/${CALL}`, { account_sid: ONE.accountSid })).status).toBe(201);
    const url = `${exp.url}/webhooks/twilio/call-status`;
    for (const status of ['completed', 'in-progress']) {
      const params = { CallSid: CALL, AccountSid: TWO.accountSid, CallStatus: status };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TWO.authToken, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      expect(res.status).toBe(403);
    }
    const call = exp.exporter.registry.get(CALL);
    expect(call?.endedAtMs).toBeUndefined();
    expect(call?.accountSid).toBe(ONE.accountSid);
    expect([...(call?.sources ?? [])]).toEqual(['admin']);
    const counts = seriesOf(await exp.scrape(), 'twilio_insights_exporter_webhook_callbacks_total');
    expect(counts.find((s) => s.labels['outcome'] === 'forbidden')?.value).toBe(2);
  });
});

describe('calls_refused_total', () => {
  it('counts each refused call once, however often it is announced again', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, { max_calls: 1, admin: { bearer_token: TOKEN } });
    expect((await admin(exp.url, 'PUT', `/calls/CA${'a'.repeat(32)}`)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await admin(exp.url, 'PUT', `/calls/CA${'b'.repeat(32)}`)).status).toBe(409);
    expect((await admin(exp.url, 'PUT', `/calls/CA${'c'.repeat(32)}`)).status).toBe(409);
    const refused = seriesOf(await exp.scrape(), 'twilio_insights_exporter_calls_refused_total');
    expect(refused.find((s) => s.labels['source'] === 'admin')?.value).toBe(2);
  });

  it('logs one warning per stretch at the cap, not one per refused call', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    exp = await startTestExporter(sim.url, { max_calls: 1, admin: { bearer_token: TOKEN } }, { logger });
    expect((await admin(exp.url, 'PUT', `/calls/CA${'a'.repeat(32)}`)).status).toBe(201);
    for (const c of 'bcdef') expect((await admin(exp.url, 'PUT', `/calls/CA${c.repeat(32)}`)).status).toBe(409);
    // A freed slot taken by a new call starts a new stretch.
    expect((await admin(exp.url, 'DELETE', `/calls/CA${'a'.repeat(32)}`)).status).toBe(204);
    expect((await admin(exp.url, 'PUT', `/calls/CA${'9'.repeat(32)}`)).status).toBe(201);
    expect((await admin(exp.url, 'PUT', `/calls/CA${'8'.repeat(32)}`)).status).toBe(409);
    const refusals = lines.filter((l) => l.msg.startsWith('call refused: max_calls reached'));
    expect(refusals).toHaveLength(6);
    expect(refusals.filter((l) => l.level === 40)).toHaveLength(2);
  });
});

describe('reload', () => {
  const reload = async (url: string) => {
    const res = await fetch(`${url}/-/reload`, { method: 'POST' });
    return { status: res.status, text: await res.text() };
  };
  const rewrite = (file: string, change: (doc: Record<string, unknown>) => void) => {
    const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    change(doc);
    writeFileSync(file, stringify(doc));
  };

  it('after a reload that adds an account, the admin API refuses that account\'s calls until a restart', async () => {
    sim = await startSimulator({ lagSeconds: 0, accounts: [ONE, TWO] });
    exp = await startTestExporter(sim.url, { accounts: [accountEntry(ONE, sim.url)], admin: { bearer_token: TOKEN } });
    rewrite(exp.file, (doc) => {
      doc['accounts'] = [accountEntry(ONE, sim!.url), accountEntry(TWO, sim!.url)];
    });
    const r = await reload(exp.url);
    expect(r.status).toBe(200);
    expect(r.text).toContain('restart to apply: accounts');
    const res = await admin(exp.url, 'PUT', `/calls/${CALL}`, { account_sid: TWO.accountSid });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toContain('restart');
    expect(exp.exporter.registry.get(CALL)).toBeUndefined();
    // Nor may a status callback signed with the new account's token track one.
    const hook = `${exp.url}/webhooks/twilio/call-status`;
    const params = { CallSid: CALL, AccountSid: TWO.accountSid, CallStatus: 'in-progress' };
    const signed = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TWO.authToken, hook, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(signed.status).toBe(403);
    expect(exp.exporter.registry.get(CALL)).toBeUndefined();
    expect((await admin(exp.url, 'PUT', `/calls/${CALL}`, { account_sid: ONE.accountSid })).status).toBe(201);
  });

  it('messages compare with the running config: a repeated pending change stays pending, a reverted one is no longer pending', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, { page_size: 100 });
    rewrite(exp.file, (doc) => {
      doc['page_size'] = 50;
    });
    expect((await reload(exp.url)).text).toBe('reloaded; restart to apply: page_size\n');
    expect((await reload(exp.url)).text).toBe('reloaded; restart to apply: page_size\n');
    rewrite(exp.file, (doc) => {
      doc['page_size'] = 100;
    });
    expect((await reload(exp.url)).text).toBe('reloaded\n');
  });
});
