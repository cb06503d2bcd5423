import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.ts';
import { SID_A, problemsOf } from './helpers.ts';

const account = { account_sid: SID_A, auth_token: 'token' };
const withPath = (telemetry_path: string) => ({ raw: { accounts: [account], web: { telemetry_path } }, env: {} });

// Probe L #4: the exposition's route is mounted first, so a telemetry_path equal to another route silently took it
// over (signed status callbacks got 405, `/` lost the status page); one with route syntax took over every path or
// crashed the start.
describe('web.telemetry_path', () => {
  it.each([
    ['/', 'would shadow the route /'],
    ['/-/healthy', 'would shadow the route /-/healthy'],
    ['/-/Ready/', 'would shadow the route /-/ready'],
    ['/-/reload', 'would shadow the route /-/reload'],
    ['/calls/CA00000000000000000000000000000000', 'would shadow the route /calls/{CallSid}'],
    ['/api/v1', 'would shadow the routes under /api/v1 (/api/v1/calls, /api/v1/calls/{CallSid})'],
    ['/api/v1/calls', 'would shadow the routes under /api/v1 (/api/v1/calls, /api/v1/calls/{CallSid})'],
    ['/webhooks/twilio/call-status', 'would shadow the routes under /webhooks (/webhooks/twilio/call-status, /webhooks/twilio/event-streams/{AccountSid})'],
    ['/webhooks/twilio/event-streams/AC00000000000000000000000000000000', 'would shadow the routes under /webhooks (/webhooks/twilio/call-status, /webhooks/twilio/event-streams/{AccountSid})'],
    ['/*all', 'must be a plain path: express reads : * ( ) [ ] { } + ! \\ as route syntax'],
    ['/metrics(x)', 'must be a plain path: express reads : * ( ) [ ] { } + ! \\ as route syntax'],
    ['/:name', 'must be a plain path: express reads : * ( ) [ ] { } + ! \\ as route syntax'],
  ])('%s is refused, naming the route it would shadow', (path, rule) => {
    expect(problemsOf(withPath(path))).toEqual([`web.telemetry_path: ${rule}`]);
  });

  it.each(['/metrics', '/prometheus/metrics', '/calls', '/-/metrics', '/webhooksx'])('%s is accepted', (path) => {
    expect(loadConfig(withPath(path)).web.telemetryPath).toBe(path);
  });
});
