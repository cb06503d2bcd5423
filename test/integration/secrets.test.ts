import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { eventually } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let child: ChildProcessWithoutNullStreams | undefined;
let sim: RunningSimulator | undefined;
afterEach(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await sim?.close();
  child = sim = undefined;
});

describe('secrets', () => {
  it('never appear in logs, errors, /metrics, the admin API or the config dump of a run with failures', { timeout: 120_000 }, async () => {
    const account = 'AC5ec0de00000000000000000000000000';
    const token = 'tok3n-that-must-never-leak-7f1e';
    const admin = 'adm1n-that-must-never-leak-93c2';
    sim = await startSimulator({ lagSeconds: 0, accounts: [{ accountSid: account, authToken: token }] });
    const control = simControl(sim.url);
    const call = await control.createCall({ type: 'client', account_sid: account, age_seconds: 60 });
    // Failures of every kind produce error messages and logs worth grepping.
    await control.setFaults({ rate_500: 0.2, truncate_rate: 0.2, reset_rate: 0.1, rate_429: 0.2 });

    const dir = mkdtempSync(join(tmpdir(), 'tie-secret-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      stringify({
        accounts: [{ account_sid: account, auth_token: token, insights_base_url: sim.url, api_base_url: sim.url }],
        calls: [call.sid, `CA${'e'.repeat(32)}`],
        poll_interval: '1s',
        discovery: { enabled: true, interval: '1s' },
        admin: { bearer_token: admin },
        log: { level: 'debug' },
      }),
    );
    child = spawn(process.execPath, ['src/main.ts', `--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await eventually(() => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out)?.[1], 20_000, 'the listening line');
    const metrics = await eventually(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return t.includes('twilio_call_mos{') && t.includes('outcome="500"') ? t : undefined;
      // Random faults, retries and the circuit breaker's pauses take longer on a loaded machine (once over 30 s in a
      // full parallel run); what is checked here is what the output holds, not how fast it comes.
    }, 60_000, 'samples and failures');
    const api = await (await fetch(`${url}/api/v1/calls`, { headers: { authorization: `Bearer ${admin}` } })).text();
    const refused = await (await fetch(`${url}/api/v1/calls`, { headers: { authorization: 'Bearer wrong' } })).text();
    const c = child;
    c.kill('SIGTERM');
    await new Promise((done) => c.on('exit', done));
    const dump = spawnSync(process.execPath, ['src/main.ts', `--config.file=${file}`, '--config.dump'], { cwd: ROOT, encoding: 'utf8' });
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain('<secret>');

    const everything = [out, metrics, api, refused, dump.stdout, dump.stderr].join('\n');
    expect(out).toContain('poll failed');
    for (const secret of [token, admin, Buffer.from(`${account}:${token}`).toString('base64')]) {
      expect(everything).not.toContain(secret);
    }
  });
});
