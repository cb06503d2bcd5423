// The parties of a call, as discovery's Calls list and a status callback give them, reach the tracked
// call as hints (through the real HTTP routes), so the poller can pick its edges without the Summary.
import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

describe('call hints', () => {
  it('discovery carries from, to and trunk_sid; a status callback carries From and To', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    const client = await control.createCall({ type: 'client', age_seconds: 60 });
    const trunk = await control.createCall({ type: 'trunking_originating', age_seconds: 60 });
    exp = await startTestExporter(sim.url, { discovery: { enabled: true, interval: '1s' } });
    const hints = await eventually(() => {
      const a = exp!.exporter.registry.get(client.sid)?.hints;
      const b = exp!.exporter.registry.get(trunk.sid)?.hints;
      return a && b ? { a, b } : undefined;
    });
    expect(hints.a.from).toMatch(/^client:/);
    expect(hints.a.trunkSid).toBeUndefined();
    expect(hints.b.trunkSid).toMatch(/^TK[0-9a-f]{32}$/);

    const url = `${exp.url}/webhooks/twilio/call-status`;
    const sid = `CA${'b'.repeat(32)}`;
    const params = { CallSid: sid, AccountSid: DEMO_ACCOUNT.accountSid, CallStatus: 'in-progress', From: '+15550001111', To: 'sip:desk@example.com' };
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(DEMO_ACCOUNT.authToken, url, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(response.status).toBe(204);
    expect(exp.exporter.registry.get(sid)?.hints).toEqual({ from: '+15550001111', to: 'sip:desk@example.com', trunkSid: undefined });
  });
});
