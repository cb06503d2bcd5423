import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadWebConfig } from '../../src/http/web-config.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

const ADMIN_TOKEN = 'admin-secret-token';
const CALL = 'CA7569efe0253644fa4a88aa97beca3310';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (token: string): string => `Bearer ${token}`;

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

// The exporter with an admin token and a web config file with one basic-auth user, as an operator would run it.
async function start(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tie-admin-web-'));
  writeFileSync(join(dir, 'web.yaml'), stringify({ basic_auth_users: { prom: bcrypt.hashSync('scrape-pass', 4) } }));
  sim = await startSimulator({ lagSeconds: 0 });
  exp = await startTestExporter(sim.url, { admin: { bearer_token: ADMIN_TOKEN } }, { webConfig: loadWebConfig(join(dir, 'web.yaml')) });
  return exp.url;
}

async function call(url: string, authorization: string | undefined, method = 'GET', body?: string): Promise<{ status: number; challenge: string | null }> {
  const res = await fetch(url, {
    method,
    headers: { ...(authorization !== undefined && { authorization }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body }),
  });
  await res.arrayBuffer();
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

describe('admin API behind basic auth (probe A #2: both wanted the one Authorization header)', () => {
  it('takes the admin bearer token on /api/v1, and basic credentials alone do not open it', async () => {
    const url = await start();
    expect(await call(`${url}/api/v1/calls/${CALL}`, bearer(ADMIN_TOKEN), 'PUT', '{}')).toEqual({ status: 201, challenge: null });
    const list = await fetch(`${url}/api/v1/calls`, { headers: { authorization: bearer(ADMIN_TOKEN) } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { calls: Array<{ call_sid: string }> }).calls.map((c) => c.call_sid)).toEqual([CALL]);
    expect(await call(`${url}/api/v1/calls/${CALL}`, bearer(ADMIN_TOKEN), 'DELETE')).toEqual({ status: 204, challenge: null });

    // A scrape user is not an admin: past the guard, the admin API still asks for its token.
    expect(await call(`${url}/api/v1/calls`, basic('prom', 'scrape-pass'))).toEqual({ status: 401, challenge: 'Bearer realm="twilio-insights-exporter"' });
    expect(await call(`${url}/metrics`, basic('prom', 'scrape-pass'))).toEqual({ status: 200, challenge: null });
  });

  it('answers a wrong or missing token with the basic-auth challenge', async () => {
    const url = await start();
    const challenge = 'Basic realm="twilio-insights-exporter"';
    expect(await call(`${url}/api/v1/calls`, bearer('not-the-token'))).toEqual({ status: 401, challenge });
    expect(await call(`${url}/api/v1/calls/${CALL}`, bearer('not-the-token'), 'PUT', '{}')).toEqual({ status: 401, challenge });
    expect(await call(`${url}/api/v1/calls`, undefined)).toEqual({ status: 401, challenge });
    expect(await call(`${url}/api/v1/calls`, basic('prom', 'wrong'))).toEqual({ status: 401, challenge });
    expect(exp!.exporter.registry.size).toBe(0);
  });

  // Probe L #9: `basic …` and `bearer …` were refused; RFC 9110 makes the scheme case-insensitive.
  it('reads the Basic and Bearer schemes in any case', async () => {
    const url = await start();
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      expect(await call(`${url}/metrics`, basic('prom', 'scrape-pass').replace('Basic', scheme)), scheme).toEqual({ status: 200, challenge: null });
    }
    for (const scheme of ['bearer', 'BEARER']) {
      expect(await call(`${url}/api/v1/calls`, bearer(ADMIN_TOKEN).replace('Bearer', scheme)), scheme).toEqual({ status: 200, challenge: null });
    }
    expect(await call(`${url}/metrics`, basic('prom', 'scrape-pass').replace('Basic ', 'Basicx '))).toEqual({ status: 401, challenge: 'Basic realm="twilio-insights-exporter"' });
  });

  it('opens no other route to the admin token', async () => {
    const url = await start();
    const challenge = 'Basic realm="twilio-insights-exporter"';
    const others: Array<[string, string]> = [
      ['GET', '/metrics'],
      ['GET', '/'],
      ['GET', `/calls/${CALL}`],
      ['GET', '/-/healthy'],
      ['GET', '/-/ready'],
      ['POST', '/-/reload'],
      ['POST', '/webhooks/twilio/call-status'],
      ['POST', `/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`],
      ['GET', '/api/v1'],
      ['GET', '/api/v1/nothing-here'],
      ['GET', '/api/v1x/calls'],
      ['GET', '/nothing-here'],
    ];
    for (const [method, path] of others) {
      expect({ method, path, ...(await call(`${url}${path}`, bearer(ADMIN_TOKEN), method)) }).toEqual({ method, path, status: 401, challenge });
    }
  });
});
