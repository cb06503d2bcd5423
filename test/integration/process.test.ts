import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../src/http/web-config.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { eventually, seriesOf } from '../helpers/exporter.ts';
import { freePort } from '../helpers/free-port.ts';
import { simControl } from '../helpers/sim-control.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const children: ChildProcessWithoutNullStreams[] = [];
let sim: RunningSimulator | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await sim?.close();
  sim = undefined;
});

// The real program, as a user runs it: Node 24 on the TypeScript entry point.
function run(args: string[], env: Record<string, string> = {}): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWILIO_')));
  const child = spawn(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env: { ...clean, ...env } });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, output: () => out, exited };
}

function urlFrom(output: string): string | undefined {
  return /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(output)?.[1];
}

// Starts the exporter against `upstream` (listened on here) as its Twilio, and waits until it serves but has not
// finished starting: its account check still waits on the upstream.
async function startingAgainst(upstream: { listen(port: number, host: string): unknown; address(): unknown } & NodeJS.EventEmitter, o: { state: boolean }): Promise<{ p: ReturnType<typeof run>; port: number; dir: string }> {
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tie-proc-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({
    accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: base, api_base_url: base }],
    ...(o.state && { state: { path: join(dir, 'state.json') } }),
  }));
  const p = run([`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`]);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/-/healthy`).catch(() => undefined))?.status === 200 ? true : undefined), 20_000, 'the server');
  expect(p.output()).not.toContain('Serving metrics on');
  return { p, port, dir };
}

// The real program in push mode with a state file, against a simulator (the account check's upstream), once it serves.
async function startPushProcess(seed: number): Promise<{ p: ReturnType<typeof run>; port: number; statePath: string }> {
  sim = await startSimulator({ lagSeconds: 0, seed });
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tie-proc-'));
  const file = join(dir, 'config.yaml');
  const statePath = join(dir, 'state.json');
  writeFileSync(file, stringify({
    accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
    state: { path: statePath },
  }));
  const p = run([`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`]);
  await eventually(() => (p.output().includes('Serving metrics on') ? true : undefined), 20_000, 'the start');
  return { p, port, statePath };
}

describe('the exporter process', () => {
  it('demo mode: serves live values from the built-in simulator and stops on SIGTERM with exit 0', { timeout: 60_000 }, async () => {
    const p = run(['--demo', '--web.listen-address=127.0.0.1:0']);
    const url = await eventually(() => urlFrom(p.output()), 20_000, 'the demo banner');
    expect(p.output()).toContain('DEMO MODE');
    const text = await eventually(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return seriesOf(t, 'twilio_call_mos').length > 0 ? t : undefined;
    }, 20_000, 'MOS values');
    expect(seriesOf(text, 'twilio_call_mos').every((s) => s.value >= 1 && s.value <= 4.5)).toBe(true);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('polls an account from a config file, reloads on SIGHUP, and exits 0 on SIGINT', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'sip', age_seconds: 60 });
    const dir = mkdtempSync(join(tmpdir(), 'tie-proc-'));
    const file = join(dir, 'config.yaml');
    const doc = {
      accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url }],
      calls: [call.sid],
      poll_interval: '1s',
    };
    writeFileSync(file, stringify(doc));
    const p = run([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    const url = await eventually(() => urlFrom(p.output()), 20_000, 'the listening line');
    await eventually(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return seriesOf(t, 'twilio_call_packets_received_total').some((s) => s.labels['call_sid'] === call.sid) ? t : undefined;
    });
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);

    // A bad file is refused and the running configuration stays.
    writeFileSync(file, 'poll_intervall: 1s\n');
    p.child.kill('SIGHUP');
    await eventually(() => (p.output().includes('configuration reload failed') ? true : undefined));
    const failed = seriesOf(await (await fetch(`${url}/metrics`)).text(), 'twilio_insights_exporter_config_last_reload_successful');
    expect(failed[0]?.value).toBe(0);
    writeFileSync(file, stringify(doc));
    p.child.kill('SIGHUP');
    await eventually(async () => {
      const ok = seriesOf(await (await fetch(`${url}/metrics`)).text(), 'twilio_insights_exporter_config_last_reload_successful');
      return ok[0]?.value === 1 ? true : undefined;
    });

    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });

  // Probe L #6: a failed SIGHUP reload also wrote a plain-text line to stderr, which a pipeline reading JSON lines
  // cannot parse; the logger already records the failure in the configured format.
  it('a failed SIGHUP reload writes only log lines to stderr, each JSON with log.format: json', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'tie-proc-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, stringify({
      accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url }],
      log: { format: 'json' },
    }));
    const p = run([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    let stderr = '';
    p.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(() => urlFrom(p.output()), 20_000, 'the listening line');
    writeFileSync(file, 'accounts: [\n');
    p.child.kill('SIGHUP');
    await eventually(() => (stderr.includes('configuration reload failed') ? true : undefined));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => l.includes('reload failed'))).toHaveLength(1);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });

  // Probe E #1: the signal handlers were installed only once the start-up account check ended (84 s against a Twilio
  // that never answers), while the server already answered: a SIGHUP in that window killed the process silently,
  // and a SIGTERM skipped the last state save.
  it('reloads on SIGHUP and stops cleanly on SIGTERM while the start-up account check still waits on Twilio', { timeout: 60_000 }, async () => {
    const held: Socket[] = [];
    const blackhole = createServer((s) => held.push(s));
    try {
      const { p, port, dir } = await startingAgainst(blackhole, { state: true });
      p.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
      expect(p.child.exitCode, p.output()).toBeNull();
      expect(p.child.signalCode, p.output()).toBeNull();
      expect((await fetch(`http://127.0.0.1:${port}/-/healthy`)).status).toBe(200);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('"msg":"stopped"');
      expect(existsSync(join(dir, 'state.json'))).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      blackhole.close();
    }
  });

  it('applies a SIGHUP received during start-up once the start ends', { timeout: 60_000 }, async () => {
    // Twilio answers the account check only after 3 s (with a 404, which the check logs and the start survives).
    const slow = createHttpServer((_req, res) => void setTimeout(() => res.writeHead(404).end(), 3000));
    try {
      const { p } = await startingAgainst(slow, { state: false });
      p.child.kill('SIGHUP');
      await eventually(() => (p.output().includes('configuration reloaded') ? true : undefined), 20_000, 'the reload');
      const out = p.output();
      expect(out.indexOf('Serving metrics on')).toBeGreaterThan(-1);
      expect(out.indexOf('configuration reloaded')).toBeGreaterThan(out.indexOf('twilio-insights-exporter started'));
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('configured from the environment alone, discovers the account\'s calls (npm start with credentials)', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const call = await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60 });
    const p = run(['--demo', '--web.listen-address=127.0.0.1:0'], {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
      TWILIO_INSIGHTS_BASE_URL: sim.url,
      TWILIO_API_BASE_URL: sim.url,
    });
    const url = await eventually(() => urlFrom(p.output()), 20_000, 'the listening line');
    expect(p.output()).not.toContain('DEMO MODE');
    await eventually(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return seriesOf(t, 'twilio_call_packets_received_total').some((s) => s.labels['call_sid'] === call.sid) ? true : undefined;
    }, 30_000, 'the call discovered and polled');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('--config.check names the bad key and exits 1 without printing the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-proc-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, stringify({ accounts: [{ account_sid: 'ACnope', auth_token: 'sup3r-s3cret-t0ken' }] }));
    const p = run([`--config.file=${file}`, '--config.check']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('accounts[0].account_sid');
    expect(p.output()).not.toContain('sup3r-s3cret-t0ken');
  });

  // Probe C #5: the flag was not checked with the config, so --config.check passed and the start died with a stack.
  it('--web.listen-address is checked like web.listen_address: --config.check and the start name the flag and exit 1', { timeout: 30_000 }, async () => {
    const env = { TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid, TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken };
    for (const bad of ['foo', ':99999']) {
      const check = run(['--config.check', `--web.listen-address=${bad}`], env);
      expect(await check.exited).toBe(1);
      expect(check.output()).toContain('--web.listen-address: must be host:port');
    }
    const start = run(['--web.listen-address=foo'], env);
    expect(await start.exited).toBe(1);
    expect(start.output()).toContain('--web.listen-address: must be host:port');
    expect(start.output()).not.toMatch(/^\s+at /m);
  });

  // Probe L #9: a bad shard flag made --config.check exit 2, where the flag table promises 1 for an invalid
  // configuration, as --web.listen-address gives.
  it('bad shard flags are an invalid configuration: --config.check and the start name the flag and exit 1', { timeout: 30_000 }, async () => {
    const env = { TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid, TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken };
    for (const args of [['--config.check', '--total-shards=0'], ['--config.check', '--shard=3', '--total-shards=3'], ['--total-shards=0']]) {
      const p = run(args, env);
      expect(await p.exited, args.join(' ')).toBe(1);
      expect(p.output(), args.join(' ')).toMatch(/^invalid configuration:\n {2}--(total-)?shards?: /);
    }
    const both = run(['--config.check', '--total-shards=x', '--web.listen-address=foo'], env);
    expect(await both.exited).toBe(1);
    expect(both.output()).toContain('--total-shards: must be a positive integer');
    expect(both.output()).toContain('--web.listen-address: must be host:port');
  });

  // Probe C #6: a busy port (the demo's 9487, say) printed a stack trace.
  it('exits 1 with one line naming the address when it cannot listen', { timeout: 30_000 }, async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const address = `127.0.0.1:${(busy.address() as AddressInfo).port}`;
    try {
      const p = run(['--demo', `--web.listen-address=${address}`]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`cannot listen on ${address}: address in use (EADDRINUSE)`);
      expect(p.output()).not.toMatch(/^\s+at /m);
    } finally {
      busy.close();
    }
  });

  // Probe C #7: the main help points to `event-streams --help`, which Node's parser refused (exit 2), as it did -h.
  it('prints the usage and exits 0 for --help and -h, on the exporter and on event-streams', { timeout: 30_000 }, async () => {
    const cases: Array<[string[], string]> = [
      [['--help'], 'Usage: twilio-insights-exporter [flags]'],
      [['-h'], 'Usage: twilio-insights-exporter [flags]'],
      [['event-streams', '--help'], 'Usage: twilio-insights-exporter event-streams'],
      [['event-streams', '-h'], 'Usage: twilio-insights-exporter event-streams'],
      [['event-streams', 'setup', '--help'], 'Usage: twilio-insights-exporter event-streams'],
    ];
    for (const [args, usage] of cases) {
      const p = run(args);
      expect(await p.exited, args.join(' ')).toBe(0);
      expect(p.output().slice(0, usage.length), args.join(' ')).toBe(usage);
    }
  });

  // Probe C #4: the dump left out the listen flag and the OTLP push the OTEL_* variables turn on.
  it('--config.dump prints what the process would run with: flags and the standard OTEL_* variables applied', { timeout: 30_000 }, async () => {
    const env = {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_SERVICE_NAME: 'voice-edge',
    };
    const p = run(['--config.dump', '--web.listen-address=127.0.0.1:19755'], env);
    expect(await p.exited).toBe(0);
    const dumped = parse(p.output()) as { web: Record<string, unknown>; otlp: Record<string, unknown> };
    expect(dumped.web['listen_address']).toBe('127.0.0.1:19755');
    expect(dumped.otlp).toMatchObject({ endpoint: 'http://collector:4318/v1/metrics', export_interval: '5s', service_name: 'voice-edge' });
  });

  // The demo serves on loopback only, and the dump said `:9487` (every interface).
  it('--demo --config.dump shows the loopback address the demo listens on', { timeout: 30_000 }, async () => {
    const p = run(['--demo', '--config.dump']);
    expect(await p.exited).toBe(0);
    const dumped = parse(p.output()) as { web: Record<string, unknown> };
    expect(dumped.web['listen_address']).toBe('127.0.0.1:9487');
  });

  it('answers 408 to a client that sends nothing, stops inside its headers, or trickles its body, and serves on', { timeout: 90_000 }, async () => {
    const p = run(['--demo', '--web.listen-address=127.0.0.1:0']);
    const url = await eventually(() => urlFrom(p.output()), 20_000, 'the demo banner');
    const started = Date.now();
    // Node's defaults held such a connection for 60 s (headers) or 300 s (request), checked every 30 s.
    const slowClient = (first?: string): Promise<{ ms: number; answer: string }> =>
      new Promise((done) => {
        const s = connect(Number(new URL(url).port), '127.0.0.1', () => {
          if (first !== undefined) s.write(first);
        });
        let answer = '';
        s.on('data', (d: Buffer) => (answer += d.toString()));
        s.on('close', () => done({ ms: Date.now() - started, answer: answer.split('\r\n')[0] ?? '' }));
        setTimeout(() => {
          done({ ms: Date.now() - started, answer: 'still open' });
          s.destroy();
        }, 70_000).unref();
      });
    const stalledHeaders = `POST /webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    // The status-callback route reads its form body before checking the signature, so it waits for the rest.
    const trickledBody = 'POST /webhooks/twilio/call-status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nA';
    const [idle, stalled, trickled] = await Promise.all([slowClient(), slowClient(stalledHeaders), slowClient(trickledBody)]);
    for (const r of [idle, stalled]) {
      expect(r.answer).toBe('HTTP/1.1 408 Request Timeout');
      expect(r.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS);
      expect(r.ms).toBeLessThan(HEADERS_TIMEOUT_MS * 3);
    }
    expect(trickled.answer).toBe('HTTP/1.1 408 Request Timeout');
    expect(trickled.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(trickled.ms).toBeLessThan(REQUEST_TIMEOUT_MS * 2);
    // The server goes on serving whole requests.
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  // Twilio gets a 2xx only for a batch that is applied; on shutdown, a batch applied after the last state save would
  // be answered 200 and lost from the state file, so the restarted exporter would count its samples again.
  it('a push delivery in flight at SIGTERM is applied before the last state save (or not answered 2xx)', { timeout: 60_000 }, async () => {
    const { p, port, statePath } = await startPushProcess(3);
    const callSid = 'CA5555555555555555555555555555aaaa';
    const at = new Date(Math.floor(Date.now() / 10_000) * 10_000 - 30_000).toISOString();
    const body = JSON.stringify([{
      specversion: '1.0', type: 'com.twilio.voice.insights.call-metrics.gateway', source: `/v1/Voice/${callSid}/Metrics`, id: 'EVinflight0001',
      dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2', time: at,
      data: { call_sid: callSid, account_sid: DEMO_ACCOUNT.accountSid, timestamp: at, edge: 'carrier_edge', direction: 'inbound', carrier_edge: { codec_name: 'pcmu', interval: { packets_loss_percentage: 0.5 } } },
    }]);
    const signed = signDelivery(DEMO_ACCOUNT.authToken, `http://127.0.0.1:${port}/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`, body);
    const path = signed.url.slice(`http://127.0.0.1:${port}`.length);
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = once(s, 'close');
    s.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-Twilio-Signature: ${signed.signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 50)}`);
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    s.write(body.slice(50));
    expect(await p.exited).toBe(0);
    await closed;
    const status = answer.split('\r\n')[0] ?? '';
    const saved = existsSync(statePath) && readFileSync(statePath, 'utf8').includes(callSid);
    // Either the batch was applied and saved, or Twilio was not told it was (and delivers it again).
    expect({ status, saved }).toEqual({ status: 'HTTP/1.1 200 OK', saved: true });
  });

  it('a second SIGTERM cuts a request still in flight and still takes the last state save; the process exits 0', { timeout: 60_000 }, async () => {
    const { p, port, statePath } = await startPushProcess(4);
    const sink = `http://127.0.0.1:${port}/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`;
    const at = new Date(Math.floor(Date.now() / 10_000) * 10_000 - 30_000).toISOString();
    const delivery = (callSid: string, id: string): { body: string; path: string; signature: string } => {
      const body = JSON.stringify([{
        specversion: '1.0', type: 'com.twilio.voice.insights.call-metrics.gateway', source: `/v1/Voice/${callSid}/Metrics`, id,
        dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2', time: at,
        data: { call_sid: callSid, account_sid: DEMO_ACCOUNT.accountSid, timestamp: at, edge: 'carrier_edge', direction: 'inbound', carrier_edge: { codec_name: 'pcmu' } },
      }]);
      const signed = signDelivery(DEMO_ACCOUNT.authToken, sink, body);
      return { body, path: signed.url.slice(`http://127.0.0.1:${port}`.length), signature: signed.signature };
    };
    // Applied before the shutdown: it must be in the last save.
    const done = delivery('CA6666666666666666666666666666aaaa', 'EVdone0001');
    const answered = await fetch(`http://127.0.0.1:${port}${done.path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': done.signature }, body: done.body });
    expect(answered.status).toBe(200);
    // Stalled halfway: the first SIGTERM waits for it, the second cuts it unanswered.
    const stalled = delivery('CA6666666666666666666666666666bbbb', 'EVstall0001');
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('error', () => undefined);
    s.write(`POST ${stalled.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-Twilio-Signature: ${stalled.signature}\r\nContent-Length: ${Buffer.byteLength(stalled.body)}\r\n\r\n${stalled.body.slice(0, 40)}`);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(answer).toBe('');
    const saved = readFileSync(statePath, 'utf8');
    expect(saved).toContain('CA6666666666666666666666666666aaaa');
    expect(saved).not.toContain('CA6666666666666666666666666666bbbb');
  });
});
