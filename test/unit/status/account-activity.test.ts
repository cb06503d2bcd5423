import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { AccountActivity } from '../../../src/status/account-activity.ts';
import { summarizeError } from '../../../src/status/poll-log.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';

const SID = 'AC0e0000000000000000000000000000a1';

function activity(): { a: AccountActivity; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return { a: new AccountActivity([SID], () => clock.ms), clock };
}

const view = (a: AccountActivity) => a.views()[0]!;
const twilio500 = new TwilioError({ code: 'upstream', endpoint: 'metrics', status: 500, twilioCode: 20500 });

describe('AccountActivity', () => {
  it('says up or down only as told (what twilio_insights_exporter_up says), and nothing before', () => {
    const { a } = activity();
    expect(view(a).up).toBeUndefined();
    // A failure alone decides nothing: the self telemetry's rule does, and sets the gauge and the page together.
    a.failed(SID, twilio500);
    expect(view(a).up).toBeUndefined();
    a.up(SID, false);
    expect(view(a).up).toBe(false);
    a.up(SID, true);
    expect(view(a).up).toBe(true);
  });

  it('keeps Twilio’s last error, with its status and code, when the open circuit refuses the requests after it', () => {
    const { a, clock } = activity();
    a.failed(SID, twilio500);
    const at = clock.ms;
    a.circuit(SID, true);
    clock.ms += 5_000;
    a.failed(SID, new BrokenCircuitError());
    expect(view(a)).toMatchObject({ circuitOpen: true, lastError: { code: 'upstream', status: 500, twilioCode: 20500, atMs: at } });
  });

  it('keeps a timeout or a refused connection as the last error past the circuit’s refusals', () => {
    const { a } = activity();
    a.failed(SID, new TwilioError({ code: 'network', endpoint: 'metrics', detail: 'connect ECONNREFUSED 127.0.0.1:1' }));
    a.failed(SID, new BrokenCircuitError());
    expect(view(a).lastError).toMatchObject({ code: 'network' });
    a.failed(SID, new TwilioError({ code: 'timeout', endpoint: 'metrics' }));
    expect(view(a).lastError).toMatchObject({ code: 'timeout' });
  });

  it('a circuit refusal alone is no last error', () => {
    const { a } = activity();
    a.failed(SID, new BrokenCircuitError());
    expect(view(a).lastError).toBeUndefined();
  });
});

describe('summarizeError', () => {
  it('names the open circuit’s refusal circuit_open, not internal', () => {
    expect(summarizeError(new BrokenCircuitError())).toMatchObject({ code: 'circuit_open' });
    expect(summarizeError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
  });
});
