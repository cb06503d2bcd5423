import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { generate } from 'selfsigned';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { eventually } from '../helpers/exporter.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let child: ChildProcessWithoutNullStreams | undefined;
let sim: RunningSimulator | undefined;
afterEach(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await sim?.close();
  child = sim = undefined;
});

function start(args: string[], env: Record<string, string> = {}): { output: () => string; exited: Promise<number | null> } {
  child = spawn(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const c = child;
  return { output: () => out, exited: new Promise((done) => c.on('exit', done)) };
}

describe('--web.config.file', () => {
  it('serves TLS and requires bcrypt basic auth on every route, checked with a real TLS client', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-web-'));
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    writeFileSync(join(dir, 'tls.crt'), pems.cert);
    writeFileSync(join(dir, 'tls.key'), pems.private);
    writeFileSync(
      join(dir, 'web.yaml'),
      stringify({ tls_server_config: { cert_file: 'tls.crt', key_file: 'tls.key' }, basic_auth_users: { prom: bcrypt.hashSync('scrape-pass', 4) } }),
    );
    sim = await startSimulator({ lagSeconds: 0 });
    writeFileSync(
      join(dir, 'config.yaml'),
      stringify({ accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url }] }),
    );
    const p = start([`--config.file=${join(dir, 'config.yaml')}`, `--web.config.file=${join(dir, 'web.yaml')}`, '--web.listen-address=127.0.0.1:0']);
    const url = await eventually(() => /(https:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(p.output())?.[1], 20_000, 'the https URL');

    const trusted = new Agent({ connect: { ca: pems.cert } });
    const auth = { authorization: `Basic ${Buffer.from('prom:scrape-pass').toString('base64')}` };
    const wrong = { authorization: `Basic ${Buffer.from('prom:nope').toString('base64')}` };
    expect((await undiciFetch(`${url}/metrics`, { dispatcher: trusted })).status).toBe(401);
    expect((await undiciFetch(`${url}/metrics`, { dispatcher: trusted, headers: wrong })).status).toBe(401);
    expect((await undiciFetch(`${url}/api/v1/calls`, { dispatcher: trusted })).status).toBe(401);
    const ok = await undiciFetch(`${url}/metrics`, { dispatcher: trusted, headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('twilio_insights_exporter_build_info');
    // An untrusting client refuses the self-signed certificate: it really is TLS.
    await expect(undiciFetch(`${url}/metrics`, { dispatcher: new Agent() })).rejects.toThrow();
    await trusted.close();
    child!.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('refuses a web config with an unknown key or a plain-text password, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-web-'));
    writeFileSync(join(dir, 'web.yaml'), stringify({ basic_auth_users: { prom: 'plaintext' }, http_server_config: {} }));
    const p = start(['--web.config.file', join(dir, 'web.yaml'), '--config.check'], {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('http_server_config');
    expect(p.output()).toContain('basic_auth_users.prom: must be a bcrypt hash');
    expect(p.output()).not.toContain('plaintext');
  });

  // Probe L #3: a certificate or key that is not PEM, or a key of another certificate, passed --config.check; the
  // start and --healthcheck then died with a Node stack trace.
  it('refuses a TLS cert or key that is not PEM, or a key of another certificate, in --config.check, the start and --healthcheck', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-web-'));
    const one = await generate([{ name: 'commonName', value: 'one' }], { keySize: 2048, algorithm: 'sha256' });
    const two = await generate([{ name: 'commonName', value: 'two' }], { keySize: 2048, algorithm: 'sha256' });
    writeFileSync(join(dir, 'one.crt'), one.cert);
    writeFileSync(join(dir, 'one.key'), one.private);
    writeFileSync(join(dir, 'two.key'), two.private);
    writeFileSync(join(dir, 'garbage.pem'), 'this is not PEM\n');
    const cases = [
      { name: 'garbage-cert', tls: { cert_file: 'garbage.pem', key_file: 'one.key' }, problem: `tls_server_config.cert_file: ${join(dir, 'garbage.pem')} is not a PEM certificate` },
      { name: 'garbage-key', tls: { cert_file: 'one.crt', key_file: 'garbage.pem' }, problem: `tls_server_config.key_file: ${join(dir, 'garbage.pem')} is not a PEM private key` },
      {
        name: 'mismatch',
        tls: { cert_file: 'one.crt', key_file: 'two.key' },
        problem: `tls_server_config.key_file: ${join(dir, 'two.key')} is not the private key of the certificate in ${join(dir, 'one.crt')}`,
      },
    ];
    const env = { TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid, TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken };
    for (const c of cases) {
      const web = join(dir, `${c.name}.yaml`);
      writeFileSync(web, stringify({ tls_server_config: c.tls }));
      for (const [args, code] of [[['--config.check'], 1], [['--web.listen-address=127.0.0.1:0'], 1], [['--healthcheck', '--web.listen-address=127.0.0.1:20899'], 2]] as const) {
        const p = start([`--web.config.file=${web}`, ...args], env);
        expect(await p.exited, `${c.name} ${args[0]}`).toBe(code);
        expect(p.output(), `${c.name} ${args[0]}`).toContain(`web config: ${c.problem}`);
        expect(p.output(), `${c.name} ${args[0]}`).not.toMatch(/^\s+at /m);
      }
    }
  });
});
