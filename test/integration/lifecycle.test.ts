import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const callSids = (text: string): Set<string> => new Set(seriesOf(text, 'twilio_call_info').map((s) => s.labels['call_sid']!));

describe('discovery and lifecycle', () => {
  it('tracks calls the simulator starts, ends them when they end, and drops their series after retention', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    const a = await control.createCall({ type: 'carrier', age_seconds: 60 });
    exp = await startTestExporter(sim.url, {
      discovery: { enabled: true, interval: '1s' },
      drain_period: '1s',
      call_retention: '2s',
    });
    await eventually(async () => (callSids(await exp!.scrape()).has(a.sid) ? true : undefined), 15_000, 'call a discovered');
    const b = await control.createCall({ type: 'client', age_seconds: 30 });
    await eventually(async () => (callSids(await exp!.scrape()).has(b.sid) ? true : undefined), 15_000, 'call b discovered');

    await control.endCall(a.sid);
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      return callSids(t).has(a.sid) ? undefined : t;
    }, 15_000, 'call a removed after retention');
    expect(callSids(text).has(b.sid)).toBe(true);
    // The fleet histograms keep what they counted.
    expect(seriesOf(text, 'twilio_voice_samples_total').some((s) => s.labels['edge'] === 'carrier_edge' && s.value > 0)).toBe(true);
    expect(seriesOf(text, 'twilio_voice_active_calls')[0]?.value).toBe(1);
  });
});

describe('Twilio status callbacks', () => {
  const post = (url: string, params: Record<string, string>, signature?: string) =>
    fetch(`${url}/webhooks/twilio/call-status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
      body: new URLSearchParams(params).toString(),
    });

  it('accepts a callback signed the way Twilio signs, and refuses forged, re-parameterised and unsigned ones', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'sip', age_seconds: 60 });
    exp = await startTestExporter(sim.url);
    const url = `${exp.url}/webhooks/twilio/call-status`;
    const params = { CallSid: call.sid, AccountSid: DEMO_ACCOUNT.accountSid, CallStatus: 'in-progress', From: '+15550001111', To: '+15550002222' };
    // Signatures computed by the official twilio package, independently of the code under test.
    const good = twilio.getExpectedTwilioSignature(DEMO_ACCOUNT.authToken, url, params);
    const forged = twilio.getExpectedTwilioSignature('not-the-token', url, params);

    expect((await post(exp.url, params)).status).toBe(403);
    expect((await post(exp.url, params, forged)).status).toBe(403);
    expect((await post(exp.url, { ...params, CallSid: `CA${'f'.repeat(32)}` }, good)).status).toBe(403);
    expect(exp.exporter.registry.size).toBe(0);

    expect((await post(exp.url, params, good)).status).toBe(204);
    expect(exp.exporter.registry.get(call.sid)?.sources.has('webhook')).toBe(true);
    await eventually(async () => (callSids(await exp!.scrape()).has(call.sid) ? true : undefined));

    const done = { ...params, CallStatus: 'completed' };
    expect((await post(exp.url, done, twilio.getExpectedTwilioSignature(DEMO_ACCOUNT.authToken, url, done))).status).toBe(204);
    expect(exp.exporter.registry.get(call.sid)?.endedAtMs).toBeTypeOf('number');
    const counts = seriesOf(await exp.scrape(), 'twilio_insights_exporter_webhook_callbacks_total');
    expect(counts.find((s) => s.labels['outcome'] === 'forbidden')?.value).toBe(3);
    expect(counts.find((s) => s.labels['outcome'] === 'accepted')?.value).toBe(2);
  });

  it('checks signatures against the configured public URL behind a proxy, and limits the body size', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, { webhooks: { public_url: 'https://exporter.example.com/base' } });
    const params = { CallSid: `CA${'a'.repeat(32)}`, AccountSid: DEMO_ACCOUNT.accountSid, CallStatus: 'in-progress' };
    const publicSig = twilio.getExpectedTwilioSignature(DEMO_ACCOUNT.authToken, 'https://exporter.example.com/base/webhooks/twilio/call-status', params);
    const localSig = twilio.getExpectedTwilioSignature(DEMO_ACCOUNT.authToken, `${exp.url}/webhooks/twilio/call-status`, params);
    expect((await post(exp.url, params, localSig)).status).toBe(403);
    expect((await post(exp.url, params, publicSig)).status).toBe(204);
    expect((await post(exp.url, { ...params, Junk: 'x'.repeat(100_000) }, publicSig)).status).toBe(413);
  });
});

describe('admin API', () => {
  it('needs the bearer token, and lists, tracks and stops calls', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60 });
    exp = await startTestExporter(sim.url, { admin: { bearer_token: 'adm1n-t0ken' } });
    const api = (method: string, path: string, token?: string, body?: unknown) =>
      fetch(`${exp!.url}/api/v1${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });

    expect((await api('GET', '/calls')).status).toBe(401);
    expect((await api('GET', '/calls', 'wrong')).status).toBe(401);
    const bad = await api('PUT', '/calls/CA123', 'adm1n-t0ken');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('call_sid: must match ^CA[0-9a-fA-F]{32}$');

    expect((await api('PUT', `/calls/${call.sid}`, 'adm1n-t0ken')).status).toBe(201);
    expect((await api('PUT', `/calls/${call.sid}`, 'adm1n-t0ken')).status).toBe(200);
    await eventually(async () =>
      seriesOf(await exp!.scrape(), 'twilio_call_sample_timestamp_seconds').some((s) => s.labels['call_sid'] === call.sid) ? true : undefined,
    );
    const list = (await (await api('GET', '/calls', 'adm1n-t0ken')).json()) as { calls: Array<{ call_sid: string; state: string; last_sample_at: string | null }> };
    expect(list.calls).toHaveLength(1);
    expect(list.calls[0]).toMatchObject({ call_sid: call.sid, state: 'active' });
    expect(list.calls[0]!.last_sample_at).not.toBeNull();

    expect((await api('DELETE', `/calls/${call.sid}`, 'adm1n-t0ken')).status).toBe(204);
    expect((await api('DELETE', `/calls/${call.sid}`, 'adm1n-t0ken')).status).toBe(404);
    expect(callSids(await exp.scrape()).has(call.sid)).toBe(false);
  });

  it('is off without a token', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url);
    expect((await fetch(`${exp.url}/api/v1/calls`, { headers: { authorization: 'Bearer x' } })).status).toBe(404);
  });
});

describe('call cap', () => {
  it('refuses calls above max_calls and counts them', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    const sids = [];
    for (let i = 0; i < 3; i++) sids.push((await control.createCall({ type: 'carrier', age_seconds: 30 })).sid);
    exp = await startTestExporter(sim.url, { calls: sids, max_calls: 2 });
    const refused = seriesOf(await exp.scrape(), 'twilio_insights_exporter_calls_refused_total');
    // Every source's series exists from the start (at 0), so increase() sees the first refusal.
    expect(refused.sort((a, b) => a.labels['source']!.localeCompare(b.labels['source']!))).toEqual([
      { labels: { source: 'admin' }, value: 0 },
      { labels: { source: 'config' }, value: 1 },
      { labels: { source: 'discovery' }, value: 0 },
      { labels: { source: 'event_streams' }, value: 0 },
      { labels: { source: 'state_file' }, value: 0 },
      { labels: { source: 'webhook' }, value: 0 },
    ]);
    expect(exp.exporter.registry.size).toBe(2);
  });
});

describe('POST /-/reload', () => {
  it('rotates credentials without a restart, and keeps the running config when the file is bad', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60 });
    const account = (token: string) => [
      { account_sid: DEMO_ACCOUNT.accountSid, auth_token: token, insights_base_url: sim!.url, api_base_url: sim!.url },
    ];
    exp = await startTestExporter(sim.url, { accounts: account('old-wrong-token'), calls: [call.sid] });
    const up = async () => seriesOf(await exp!.scrape(), 'twilio_insights_exporter_up')[0]?.value;
    await eventually(async () => ((await up()) === 0 ? true : undefined), 10_000, 'up 0 with a bad token');
    expect((await fetch(`${exp.url}/-/ready`)).status).toBe(503);

    const { writeFileSync, readFileSync } = await import('node:fs');
    const good = readFileSync(exp.file, 'utf8').replace('old-wrong-token', DEMO_ACCOUNT.authToken);
    writeFileSync(exp.file, 'accounts: [{ account_sid: nope }]\n');
    const bad = await fetch(`${exp.url}/-/reload`, { method: 'POST' });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain('accounts[0].account_sid');

    writeFileSync(exp.file, good);
    // A browser sent here by another site names that site: refused, nothing re-read (the last reload, the bad one,
    // stays the last).
    const lastReloadOk = async () => seriesOf(await exp!.scrape(), 'twilio_insights_exporter_config_last_reload_successful')[0]?.value;
    expect(await lastReloadOk()).toBe(0);
    for (const origin of ['http://evil.example', 'null']) {
      const forged = await fetch(`${exp.url}/-/reload`, { method: 'POST', headers: { origin } });
      expect(forged.status, origin).toBe(403);
      expect(await forged.text()).toContain('another site');
    }
    // Probe L #7: a page on a host name whose DNS answer now points at the exporter (DNS rebinding) sends an Origin
    // equal to its Host.
    const rebound = await rawPost(exp.url, '/-/reload', { host: `evil.example:${new URL(exp.url).port}`, origin: `http://evil.example:${new URL(exp.url).port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('another site');
    expect(await lastReloadOk()).toBe(0);
    // A page of the exporter itself, reached by IP address (same origin), may.
    const sameSite = await fetch(`${exp.url}/-/reload`, { method: 'POST', headers: { origin: exp.url } });
    expect(sameSite.status).toBe(200);
    const ok = await fetch(`${exp.url}/-/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    await eventually(async () =>
      seriesOf(await exp!.scrape(), 'twilio_call_packets_received_total').some((s) => s.labels['call_sid'] === call.sid) ? true : undefined,
    );
    expect(await up()).toBe(1);
    expect((await fetch(`${exp.url}/-/ready`)).status).toBe(200);
  });
});

describe('readiness', () => {
  // Probe J #5: the StatefulSet said bad credentials keep the pod out of the Service; only bad credentials at start
  // do. This pins what the README and the manifest now say: readiness is "answered once since start".
  it('stays ready when credentials fail after start: up turns 0 instead', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60 });
    exp = await startTestExporter(sim.url, { calls: [call.sid], poll_interval: '1s' });
    const up = async () => seriesOf(await exp!.scrape(), 'twilio_insights_exporter_up')[0]?.value;
    await eventually(async () => ((await up()) === 1 ? true : undefined), 10_000, 'up 1 with the right token');
    expect((await fetch(`${exp.url}/-/ready`)).status).toBe(200);

    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(exp.file, readFileSync(exp.file, 'utf8').replace(DEMO_ACCOUNT.authToken, 'revoked-token'));
    expect((await fetch(`${exp.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    await eventually(async () => ((await up()) === 0 ? true : undefined), 15_000, 'up 0 after the token was revoked');
    expect((await fetch(`${exp.url}/-/ready`)).status).toBe(200);
  });
});

describe('metrics allow/deny lists', () => {
  it('hide excluded families from /metrics while the rest keeps flowing', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'client', age_seconds: 60 });
    exp = await startTestExporter(sim.url, { calls: [call.sid], metrics: { exclude: ['twilio_call_audio_*', 'twilio_voice_rtt_seconds'] } });
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      return seriesOf(t, 'twilio_call_mos').length > 0 ? t : undefined;
    });
    expect(text).not.toContain('twilio_call_audio_in_level');
    expect(text).not.toContain('twilio_voice_rtt_seconds');
    expect(seriesOf(text, 'twilio_voice_mos_count').length).toBeGreaterThan(0);
  });

  // Probe L #8: the process_* and nodejs_* runtime families were exposed whatever the lists said.
  it('apply to the process_* and nodejs_* runtime families too', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'client', age_seconds: 60 });
    const families = (t: string): string[] => [...t.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    exp = await startTestExporter(sim.url, { calls: [call.sid], metrics: { include: ['twilio_call_mos'] } });
    const only = await eventually(async () => {
      const t = await exp!.scrape();
      return seriesOf(t, 'twilio_call_mos').length > 0 ? t : undefined;
    });
    expect(families(only)).toEqual(['twilio_call_mos']);
    await exp.close();
    exp = await startTestExporter(sim.url, { calls: [call.sid], metrics: { exclude: ['process_*', 'nodejs_*'] } });
    const excluded = families(await exp.scrape());
    expect(excluded).toContain('twilio_insights_exporter_build_info');
    expect(excluded.filter((f) => f.startsWith('process_') || f.startsWith('nodejs_'))).toEqual([]);
  });
});

// Probe D #5: every failed OTLP export wrote a warn line, one per interval for as long as the collector was down.
describe('OTLP export failures', () => {
  it('are logged once when they start and once when exports work again; the counter has each', { timeout: 30_000 }, async () => {
    let failing = true;
    let requests = 0;
    const collector = createServer((req, res) => {
      requests++;
      req.resume();
      // 400 is not retried by the OTLP exporter: each export fails at once.
      req.on('end', () => res.writeHead(failing ? 400 : 200, { 'content-type': 'application/x-protobuf' }).end());
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    try {
      sim = await startSimulator({ lagSeconds: 0 });
      const lines: Array<{ level: number; msg: string }> = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/metrics`;
      exp = await startTestExporter(sim.url, { otlp: { endpoint, export_interval: '1s', export_timeout: '1s' } }, { logger });
      const exports = async (outcome: string) =>
        seriesOf(await exp!.scrape(), 'twilio_insights_exporter_otlp_exports_total').find((s) => s.labels['outcome'] === outcome)?.value ?? 0;
      await eventually(async () => ((await exports('failure')) >= 3 ? true : undefined), 15_000, 'three failed exports');
      failing = false;
      await eventually(async () => ((await exports('success')) >= 1 ? true : undefined), 10_000, 'an export that works');
      const otlpLines = lines.filter((l) => l.msg.startsWith('OTLP export'));
      expect(otlpLines.map((l) => [l.level, l.msg.split(';')[0]])).toEqual([
        [40, 'OTLP export failed'],
        [30, 'OTLP export works again'],
      ]);
      expect(requests).toBeGreaterThanOrEqual(4);
    } finally {
      collector.close();
    }
  });
});

// A POST with headers fetch would not send as given (Host), through node:http.
async function rawPost(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Probe M #2: a poll in flight when its call was removed (an admin DELETE), failing after the removal, opened a
// failure episode for a call no longer tracked, which nothing ever closed: it outlived the call, and came back as
// "works again" when the SID was tracked later.
describe('poll failure episodes', () => {
  it('leave with the call, even when a poll in flight at the removal fails after it', { timeout: 90_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    const call = await control.createCall({ type: 'carrier', age_seconds: 60, duration_seconds: 3600 });
    const lines: Array<{ msg: string; call_sid?: string; failures?: number }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    exp = await startTestExporter(sim.url, { backfill: true }, { logger });
    await control.setFaults({ rate_500: 1, latency_ms: 1500, latency_rate: 1, routes: ['metrics', 'summary'] });
    exp.exporter.registry.track(call.sid, DEMO_ACCOUNT.accountSid, 'admin');
    // Removed while its first poll waits on the slow answer; the poll fails after the removal.
    await new Promise((r) => setTimeout(r, 500));
    exp.exporter.registry.remove(call.sid);
    await eventually(() => (lines.some((l) => l.call_sid === call.sid && l.msg.startsWith('poll failed')) ? true : undefined), 15_000, 'the poll in flight failing');
    await control.setFaults({});
    // Once polls work again (another call's say so), the removed call tracked again polls at once with no failure of
    // its own: nothing of the episode the removal closed may come back.
    const canary = await control.createCall({ type: 'carrier', age_seconds: 60, duration_seconds: 3600 });
    exp.exporter.registry.track(canary.sid, DEMO_ACCOUNT.accountSid, 'admin');
    const samplesOf = async (sid: string): Promise<number> => seriesOf(await exp!.scrape(), 'twilio_call_packets_received_total').filter((x) => x.labels['call_sid'] === sid).length;
    await eventually(async () => ((await samplesOf(canary.sid)) > 0 ? true : undefined), 30_000, 'polls working again');
    exp.exporter.registry.track(call.sid, DEMO_ACCOUNT.accountSid, 'admin');
    await eventually(async () => ((await samplesOf(call.sid)) > 0 ? true : undefined), 15_000, 'the call polled again');
    expect(lines.filter((l) => l.call_sid === call.sid && l.msg === 'polling the call works again')).toEqual([]);
  });
});
