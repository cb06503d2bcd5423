import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { SimulatorControl } from '../../src/simulator/control-client.ts';
import { CALL_TYPES } from '../../src/samples/sample.ts';

/** The standalone simulator running in its own process, so it never shares the exporter's event loop. */
export interface ChildSimulator {
  readonly url: string;
  readonly control: SimulatorControl;
  /** CPU time the simulator process has used, in ms (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));
// USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux Node supports.
const TICKS_PER_SECOND = 100;

function procCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Starts `src/simulator/main.ts` on a free loopback port with lag 0; extra flags are passed through. */
export function startChildSimulator(flags: readonly string[] = []): Promise<ChildSimulator> {
  const child: ChildProcess = spawn(process.execPath, [MAIN, '--web.listen-address=127.0.0.1:0', '--lag=0', ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let started = false;
    const fail = (why: string): void => {
      child.kill('SIGKILL');
      reject(new Error(`simulator did not start: ${why}${out ? `\n${out}` : ''}`));
    };
    const timer = setTimeout(() => fail('no address within 20 s'), 20_000);
    const early = (code: number | null): void => fail(`exited with ${code}`);
    child.once('exit', early);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (started) return;
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      child.off('exit', early);
      const url = m[1]!;
      resolve({
        url,
        control: new SimulatorControl(url),
        cpuMs: () => procCpuMs(child.pid),
        close: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Creates `n` running calls cycling through every call type, `ageSeconds` old; returns their SIDs in order. */
export async function createCalls(sim: ChildSimulator, n: number, ageSeconds: number): Promise<string[]> {
  // A pool of its own, closed at the end, so no control-plane socket lingers in a heap measurement.
  const agent = new Agent({ connections: 16 });
  const sids: string[] = new Array<string>(n);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < n; i = next++) {
          const res = await request(`${sim.url}/_simulator/calls`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: CALL_TYPES[i % CALL_TYPES.length], age_seconds: ageSeconds }),
          });
          const body = (await res.body.json()) as { sid?: string };
          if (res.statusCode !== 201 || body.sid === undefined) throw new Error(`creating a call: ${res.statusCode} ${JSON.stringify(body)}`);
          sids[i] = body.sid;
        }
      }),
    );
  } finally {
    await agent.close();
  }
  return sids;
}
