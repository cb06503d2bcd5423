import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { basicAuth } from '../helpers/simulator.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // process.execPath is the Node 24 that runs vitest (the project's node devDependency).
  const child = spawn(process.execPath, ['src/simulator/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('simulator CLI (npm run simulator)', () => {
  it('prints its URL, serves demo calls, and exits 0 on SIGTERM', async () => {
    const { child, output, exited } = run(['--web.listen-address=127.0.0.1:0', '--calls', '5', '--lag=0']);
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1], 'the listening line');
    const response = await fetch(`${url}/2010-04-01/Accounts/${DEMO_ACCOUNT.accountSid}/Calls.json?Status=in-progress`, {
      headers: { authorization: basicAuth(DEMO_ACCOUNT.apiKeySid, DEMO_ACCOUNT.apiKeySecret) },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { calls: Array<{ sid: string }> };
    expect(body.calls).toHaveLength(5);
    const sid = body.calls[0]?.sid ?? '';
    const metrics = await fetch(`${url}/v1/Voice/${sid}/Metrics`, { headers: { authorization: basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken) } });
    expect(((await metrics.json()) as { metrics: unknown[] }).metrics.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits 0 with usage for --help and -h, and 2 with the reason for a bad flag', async () => {
    const help = run(['--help']);
    const short = run(['-h']);
    const bad = run(['--order=sideways']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('--web.listen-address=HOST:PORT');
    expect(await short.exited).toBe(0);
    expect(short.output()).toContain('--web.listen-address=HOST:PORT');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--order must be asc or desc');
  });
});
