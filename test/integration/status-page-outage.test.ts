import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { freePort } from '../helpers/free-port.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import type { TestSimulator } from '../helpers/simulator.ts';

// Probe G #3: during a Twilio outage the status page's accounts table must say what /metrics says (`up` 0 is
// "down"), and keep the last error Twilio or the network gave, not the circuit breaker's refusal that follows it.

/** One account's row of the status page: its up cell, circuit cell and last-error cell, as text. */
interface AccountRowText {
  readonly up: string;
  readonly circuit: string;
  readonly lastError: string;
}

function accountRow(page: string, accountSid: string): AccountRowText {
  const table = /<table class="accounts">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
  const row = table.split('<tr>').find((r) => r.includes(`<span class="sid">${accountSid}</span>`));
  if (row === undefined) throw new Error(`no row for ${accountSid}`);
  const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim());
  return { up: cells[1]!, circuit: cells[2]!, lastError: cells[6]! };
}

async function gauge(exp: TestExporter, name: string, accountSid: string): Promise<number | undefined> {
  return seriesOf(await exp.scrape(), name).find((s) => s.labels['account_sid'] === accountSid)?.value;
}

const page = async (exp: TestExporter): Promise<string> => (await fetch(`${exp.url}/`)).text();

/** Waits until /metrics has `up` 0 and the circuit open for the account. */
async function downWithOpenCircuit(exp: TestExporter, accountSid: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => ((await gauge(exp, 'twilio_insights_exporter_up', accountSid)) === 0 && (await gauge(exp, 'twilio_insights_exporter_circuit_open', accountSid)) === 1 ? true : undefined),
    timeoutMs,
    `up 0 and the circuit open for ${accountSid}`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let sim: TestSimulator | undefined;
let exp: TestExporter | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await exp?.close();
  await sim?.close();
  for (const s of servers.splice(0)) {
    s.close();
    s.unref();
  }
  exp = undefined;
  sim = undefined;
});

describe('status page accounts table during a Twilio outage', () => {
  it('shows the account down while up is 0, and keeps Twilio’s 500 (status and code) after the circuit opens', async () => {
    sim = await startTestSimulator();
    const calls = [];
    for (let i = 0; i < 4; i++) calls.push((await sim.control.createCall({ type: 'carrier', age_seconds: 60 })).sid);
    exp = await startTestExporter(sim.url, { calls, request_timeout: '2s' });
    const sid = DEMO_ACCOUNT.accountSid;
    await eventually(async () => ((await gauge(exp!, 'twilio_insights_exporter_up', sid)) === 1 ? true : undefined), 15_000, 'up 1');
    expect(accountRow(await page(exp), sid).up).toBe('up');

    await sim.control.setFaults({ rate_500: 1 });
    await downWithOpenCircuit(exp, sid, 30_000);
    // Polls go on while the circuit is open, each refused by the breaker without reaching Twilio.
    await sleep(3_000);
    for (let i = 0; i < 3; i++) {
      expect(await gauge(exp, 'twilio_insights_exporter_up', sid)).toBe(0);
      const row = accountRow(await page(exp), sid);
      expect(row.up).toBe('down');
      expect(row.circuit).toBe('open');
      expect(row.lastError).toMatch(/^upstream HTTP 500 Twilio 20500 /);
      expect(row.lastError).not.toContain('circuit breaker');
      await sleep(1_000);
    }
  }, 60_000);

  it('shows an unreachable account down (connection refused, or no answer before the timeout), with that error', async () => {
    const closed = await freePort();
    // Accepts connections and never answers them.
    const hang = createServer((socket: Socket) => socket.on('error', () => {}));
    servers.push(hang);
    hang.listen(0, '127.0.0.1');
    await once(hang, 'listening');
    const hangPort = (hang.address() as { port: number }).port;
    const refused = { sid: 'AC0e0000000000000000000000000000c1', url: `http://127.0.0.1:${closed}` };
    const silent = { sid: 'AC0e0000000000000000000000000000c2', url: `http://127.0.0.1:${hangPort}` };
    const accounts = [refused, silent].map((a) => ({ account_sid: a.sid, auth_token: `token-of-${a.sid}`, insights_base_url: a.url, api_base_url: a.url }));
    const calls = [refused, silent].map((a, i) => ({ call_sid: `CA0e00000000000000000000000000000${i}`, account_sid: a.sid }));
    exp = await startTestExporter('http://127.0.0.1:1', { accounts, calls, request_timeout: '1s' });

    for (const a of [refused, silent]) await downWithOpenCircuit(exp, a.sid, 30_000);
    await sleep(2_000);
    const body = await page(exp);
    const refusedRow = accountRow(body, refused.sid);
    const silentRow = accountRow(body, silent.sid);
    expect(await gauge(exp, 'twilio_insights_exporter_up', refused.sid)).toBe(0);
    expect(await gauge(exp, 'twilio_insights_exporter_up', silent.sid)).toBe(0);
    expect(refusedRow).toMatchObject({ up: 'down', circuit: 'open' });
    expect(silentRow).toMatchObject({ up: 'down', circuit: 'open' });
    expect(refusedRow.lastError).toMatch(/^network /);
    expect(silentRow.lastError).toMatch(/^timeout /);
  }, 60_000);
});
