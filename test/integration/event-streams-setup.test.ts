import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/events/event-types.ts';
import { runEventStreamsCommand } from '../../src/events/event-streams-command.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { subscribeSink } from '../helpers/event-streams.ts';
import { basicAuth } from '../helpers/simulator.ts';
import { fakeUpstream, sendJson } from '../unit/twilio/fake-upstream.ts';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const PUBLIC = 'https://exporter.example.com/base';
const SINK_URL = `${PUBLIC}/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`;

function configFile(simUrl: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tie-es-')), 'config.yaml');
  writeFileSync(
    file,
    stringify({
      accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: simUrl, api_base_url: simUrl, events_base_url: simUrl, ingest_mode: 'push' }],
    }),
  );
  return file;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runEventStreamsCommand(args, { out: (t) => (out += t), err: (t) => (err += t), env: {} });
  return { code, out, err };
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${sim!.url}${path}`, { headers: { authorization: basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken) } });
  return (await res.json()) as T;
}

async function state(): Promise<{ sinks: number; subscriptions: number; types: Record<string, number> }> {
  const sinks = (await api<{ sinks: Array<{ sid: string }> }>('/v1/Sinks')).sinks;
  const subs = (await api<{ subscriptions: Array<{ sid: string }> }>('/v1/Subscriptions')).subscriptions;
  const types: Record<string, number> = {};
  for (const s of subs) {
    for (const t of (await api<{ types: Array<{ type: string; schema_version: number }> }>(`/v1/Subscriptions/${s.sid}/SubscribedEvents`)).types) types[t.type] = t.schema_version;
  }
  return { sinks: sinks.length, subscriptions: subs.length, types };
}

const WANTED = Object.fromEntries(EVENT_TYPES.map((t) => [t.type, t.subscribeVersion]));

describe('event-streams setup and status', () => {
  it('creates the sink and subscription once: a second run creates nothing new', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const file = configFile(sim.url);
    const first = await run(['setup', `--config.file=${file}`, `--public-url=${PUBLIC}/`]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/sink DG[0-9a-f]{32} created \(status active\), subscription DF[0-9a-f]{32} created/);
    const after1 = await state();
    expect(after1).toEqual({ sinks: 1, subscriptions: 1, types: WANTED });

    const second = await run(['setup', `--config.file=${file}`, `--public-url=${PUBLIC}`]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/sink DG[0-9a-f]{32} kept .*subscription DF[0-9a-f]{32} kept ->/);
    expect(await state()).toEqual(after1);

    const status = await run(['status', `--config.file=${file}`, `--public-url=${PUBLIC}`]);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`status active -> ${SINK_URL}`);
    expect(status.out).toContain('every type the exporter reads');
  });

  it('brings an existing subscription with an old schema version and missing types up to date', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    await subscribeSink(sim.url, SINK_URL, [['com.twilio.voice.insights.call-metrics.gateway', 1]]);
    const r = await run(['setup', `--config.file=${configFile(sim.url)}`, `--public-url=${PUBLIC}`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sink DG[0-9a-f]{32} updated .*subscription DF[0-9a-f]{32} updated \(7 types\)/);
    expect(await state()).toEqual({ sinks: 1, subscriptions: 1, types: WANTED });
  });

  it('says what is missing: no public URL (2), no sink yet (status), wrong credentials (1)', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const file = configFile(sim.url);
    const noUrl = await run(['setup', `--config.file=${file}`]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toContain('--public-url=https://… (or webhooks.public_url) is required');
    const none = await run(['status', `--config.file=${file}`, `--public-url=${PUBLIC}`]);
    expect(none.out).toContain('no sink delivers to');
    writeFileSync(file, stringify({ accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: 'wrong-token', events_base_url: sim.url, ingest_mode: 'push' }] }));
    const denied = await run(['setup', `--config.file=${file}`, `--public-url=${PUBLIC}`]);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/\(auth\): HTTP 401.*\/v1\/Sinks/);
    expect(denied.err).not.toContain('wrong-token');
  });

  // Probe L #5: with no push or hybrid account, setup fell back to every Auth Token account and created a sink whose
  // deliveries the exporter refuses (403), which Twilio would retry for 4 hours.
  it('refuses a configuration with no push or hybrid account, creating nothing', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const file = configFile(sim.url);
    writeFileSync(file, stringify({ accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, events_base_url: sim.url }] }));
    const r = await run(['setup', `--config.file=${file}`, `--public-url=${PUBLIC}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no account can receive pushes: set ingest_mode: push or hybrid');
    expect(await state()).toEqual({ sinks: 0, subscriptions: 0, types: {} });
  });

  it('refuses a public URL Twilio could not deliver to as given (query, fragment, credentials, not http), creating nothing', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const file = configFile(sim.url);
    // The sink URL is the public URL plus the sink path: after a query or fragment that path is lost.
    for (const bad of [`${PUBLIC}/x?y=1`, `${PUBLIC}/x?`, `${PUBLIC}#frag`, `${PUBLIC}#`, 'https://user:secret-pw@exporter.example.com', 'ftp://exporter.example.com', 'notaurl']) {
      const r = await run(['setup', `--config.file=${file}`, `--public-url=${bad}`]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
      expect(r.err).toContain('--public-url must be an http(s) URL with no query, fragment or credentials');
      expect(r.err).not.toContain('secret-pw');
    }
    expect(await state()).toEqual({ sinks: 0, subscriptions: 0, types: {} });
  });

  it('runs as `npm run exporter -- event-streams setup` through the real entry point', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const main = resolve(import.meta.dirname, '../../src/main.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [main, 'event-streams', 'setup', `--config.file=${configFile(sim.url)}`, `--public-url=${PUBLIC}`], { env: { PATH: process.env['PATH'] ?? '' } });
    expect(stdout).toContain('created');
    expect((await state()).sinks).toBe(1);
  });
});

// The command against a hostile fake Events API over a real socket (found by an outside probe): whatever the
// server answers, setup and status exit 1 with one short line per account, no stack, no secret, no terminal escape.
describe('event-streams setup and status against a hostile Events API', () => {
  const clean = (text: string): void => {
    expect(text).not.toContain(DEMO_ACCOUNT.authToken);
    expect(text).not.toContain(basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken).slice('Basic '.length));
    // One line for the one account: no stack, and no control character from the server (ESC, CR, a forged LF).
    expect(text).toMatch(/^[^\n]*\n$/);
    expect(text.slice(0, -1)).not.toMatch(/\p{Cc}/u);
  };

  it('fails, naming the field, when a create answers 201 {"status":"ok"} instead of a Sink; nothing is sent for an undefined SID', async () => {
    const fake = await fakeUpstream((req, res) => {
      if (req.method === 'GET') return sendJson(res, 200, { sinks: [], subscriptions: [], types: [], meta: { next_page_url: null } });
      sendJson(res, 201, { status: 'ok' });
    });

    const r = await run(['setup', `--config.file=${configFile(fake.baseUrl)}`, `--public-url=${PUBLIC}`]);

    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^${DEMO_ACCOUNT.accountSid}: .*bad_payload.*sid.*\n$`));
    expect(r.err).not.toContain('undefined');
    clean(r.err);
    expect(fake.requests.map((q) => `${q.method} ${q.url}`)).toEqual(['GET /v1/Sinks?PageSize=1000', 'POST /v1/Sinks']);
  });

  it('does not follow a 307 to another origin, and says which status it got', async () => {
    const other = await fakeUpstream((_req, res) => sendJson(res, 200, { sinks: [], meta: { next_page_url: null } }));
    const fake = await fakeUpstream((req, res) => {
      res.writeHead(307, { location: `${other.baseUrl}${req.url ?? '/'}` });
      res.end();
    });

    for (const action of ['setup', 'status']) {
      const r = await run([action, `--config.file=${configFile(fake.baseUrl)}`, `--public-url=${PUBLIC}`]);
      expect({ action, code: r.code }).toEqual({ action, code: 1 });
      expect(r.err).toContain('HTTP 307');
      clean(r.err);
    }
    expect(other.requests).toHaveLength(0);
  });

  it('prints an error body that echoes the credentials and carries terminal escapes without either', async () => {
    const fake = await fakeUpstream((req, res) =>
      sendJson(res, 401, { code: 20003, message: `Authenticate: you sent ${req.headers.authorization ?? ''} \u001b[31mRED\u001b[0m` }),
    );

    const r = await run(['status', `--config.file=${configFile(fake.baseUrl)}`, `--public-url=${PUBLIC}`]);

    expect(r.code).toBe(1);
    expect(r.err).toContain('HTTP 401');
    expect(r.err).toContain('RED');
    clean(r.err);
  });
});
