import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { eventually } from '../helpers/exporter.ts';
import { freePort } from '../helpers/free-port.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ENV = { PATH: process.env['PATH'] ?? '' };


function healthcheck(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['src/main.ts', '--healthcheck', ...args], { cwd: ROOT, env: { ...ENV, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, out: stdout + stderr });
    });
  });
}

// A certificate whose names do not include 127.0.0.1: the check trusts the configured certificate itself.
async function certificate(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'exporter.internal' }], { keySize: 2048, algorithm: 'sha256' });
  return { cert: pems.cert, key: pems.private };
}

describe('--healthcheck against a TLS and basic-auth listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tie-health-'));
  let sim: RunningSimulator;
  let child: ChildProcessWithoutNullStreams | undefined;
  let listen: string;
  const web = join(dir, 'web.yaml');
  const config = join(dir, 'config.yaml');

  beforeAll(async () => {
    const served = await certificate();
    const other = await certificate();
    writeFileSync(join(dir, 'tls.crt'), served.cert);
    writeFileSync(join(dir, 'tls.key'), served.key);
    writeFileSync(join(dir, 'other.crt'), other.cert);
    writeFileSync(join(dir, 'other.key'), other.key);
    const users = { prom: bcrypt.hashSync('scrape-pass', 4) };
    writeFileSync(web, stringify({ tls_server_config: { cert_file: 'tls.crt', key_file: 'tls.key' }, basic_auth_users: users }));
    writeFileSync(join(dir, 'web-other-cert.yaml'), stringify({ tls_server_config: { cert_file: 'other.crt', key_file: 'other.key' }, basic_auth_users: users }));
    writeFileSync(join(dir, 'web-plain.yaml'), stringify({ basic_auth_users: users }));
    writeFileSync(join(dir, 'web-two-users.yaml'), stringify({ tls_server_config: { cert_file: 'tls.crt', key_file: 'tls.key' }, basic_auth_users: { ...users, admin: users.prom } }));
    writeFileSync(join(dir, 'password'), 'scrape-pass\n');
    writeFileSync(join(dir, 'wrong-password'), 'nope\n');
    sim = await startSimulator({ lagSeconds: 0 });
    listen = `127.0.0.1:${await freePort()}`;
    writeFileSync(
      config,
      stringify({
        accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url }],
        web: { listen_address: listen },
      }),
    );
    child = spawn(process.execPath, ['src/main.ts', `--config.file=${config}`, `--web.config.file=${web}`], { cwd: ROOT, env: ENV });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => (out.includes('Serving metrics on https://') ? true : undefined), 20_000, 'the exporter to listen');
  }, 60_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((done) => child!.on('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    await sim.close();
  });

  it('exits 0 when /-/healthy answers over TLS with the configured certificate and the right password', { timeout: 30_000 }, async () => {
    const r = await healthcheck([`--config.file=${config}`, `--web.config.file=${web}`, `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(r.out).toContain(`healthy: https://${listen}/-/healthy answered 200`);
    expect(r.code).toBe(0);
  });

  it('exits 1 when the listener refuses the password (401)', { timeout: 30_000 }, async () => {
    const r = await healthcheck([`--config.file=${config}`, `--web.config.file=${web}`, `--healthcheck.password-file=${join(dir, 'wrong-password')}`]);
    expect(r.out).toContain('refused the credentials (401)');
    expect(r.code).toBe(1);
  });

  it('exits 1 when the listener presents a certificate other than the configured one', { timeout: 30_000 }, async () => {
    const r = await healthcheck([`--config.file=${config}`, `--web.config.file=${join(dir, 'web-other-cert.yaml')}`, `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(r.out).toMatch(/unhealthy: https:\/\/127\.0\.0\.1:\d+\/-\/healthy: .*certificate/i);
    expect(r.code).toBe(1);
  });

  it('exits 1 when it speaks plain HTTP to a TLS listener', { timeout: 30_000 }, async () => {
    const r = await healthcheck([`--config.file=${config}`, `--web.config.file=${join(dir, 'web-plain.yaml')}`, `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(r.out).toContain(`unhealthy: http://${listen}/-/healthy`);
    expect(r.code).toBe(1);
  });

  it('exits 1 when nothing listens on the address', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const r = await healthcheck([`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${web}`, `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(r.out).toContain('ECONNREFUSED');
    expect(r.code).toBe(1);
  });

  it('exits 2 naming the missing flag when basic auth is required and no password is given', { timeout: 30_000 }, async () => {
    const r = await healthcheck([`--config.file=${config}`, `--web.config.file=${web}`]);
    expect(r.out).toContain('--healthcheck.password-file');
    expect(r.code).toBe(2);
  });

  it('exits 2 when the web config has several users and none is chosen, 0 once one is', { timeout: 30_000 }, async () => {
    const two = join(dir, 'web-two-users.yaml');
    const none = await healthcheck([`--config.file=${config}`, `--web.config.file=${two}`, `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(none.out).toContain('--healthcheck.username');
    expect(none.code).toBe(2);
    const chosen = await healthcheck([`--config.file=${config}`, `--web.config.file=${two}`, '--healthcheck.username=prom', `--healthcheck.password-file=${join(dir, 'password')}`]);
    expect(chosen.code).toBe(0);
  });

  // Probe C #1: the image's check reads its baked-in example.yaml, whose account has no credentials (they come from
  // the environment, or the demo runs) or a placeholder SID that TWILIO_ACCOUNT_SID conflicts with.
  it('exits 0 with the image\'s config file whatever the credentials: it reads only where the exporter listens', { timeout: 30_000 }, async () => {
    const args = ['--config.file=config/example.yaml', `--web.config.file=${web}`, `--healthcheck.password-file=${join(dir, 'password')}`];
    const at = { TWILIO_INSIGHTS_EXPORTER_WEB_LISTEN_ADDRESS: listen };
    const none = await healthcheck(args, at);
    expect(none.out).toMatch(/^healthcheck: healthy: /m);
    expect(none.code).toBe(0);
    const conflicting = await healthcheck(args, { ...at, TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'x' });
    expect(conflicting.code).toBe(0);
  });

  it('exits 2 on an invalid web section or an unreadable configuration file, naming the key or the file', { timeout: 30_000 }, async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, stringify({ web: { listen_address: 'foo' } }));
    const r = await healthcheck([`--config.file=${bad}`]);
    expect(r.out).toContain('web.listen_address: must be host:port');
    expect(r.code).toBe(2);
    const missing = await healthcheck([`--config.file=${join(dir, 'missing.yaml')}`]);
    expect(missing.out).toContain('missing.yaml: cannot read (ENOENT)');
    expect(missing.code).toBe(2);
  });
});
