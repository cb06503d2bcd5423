import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

let s: TestSimulator;
let sid: string;
beforeAll(async () => {
  s = await startTestSimulator();
  sid = s.simulator.createCall({ type: 'client', ageSeconds: 60 }).sid;
});
afterAll(() => s.close());

async function expectError(response: Response, status: number, code: number, message?: string | RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['code', 'message', 'more_info', 'status']);
  expect(body).toMatchObject({ code, status, more_info: `https://www.twilio.com/docs/errors/${code}` });
  if (typeof message === 'string') expect(body.message).toBe(message);
  else if (message !== undefined) expect(body.message).toMatch(message);
}

describe('request validation', () => {
  it('answers 404/20404 naming the path for a malformed or unknown CallSid', async () => {
    for (const bad of ['CA123', 'XX0123456789abcdef0123456789abcdef', 'CA0123456789abcdef0123456789abcdeg', 'CA0123456789abcdef0123456789abcdef']) {
      for (const route of ['Metrics', 'Events', 'Summary']) {
        await expectError(await s.api(`/v1/Voice/${bad}/${route}`), 404, 20404, `The requested resource /v1/Voice/${bad}/${route} was not found`);
      }
    }
  });

  it('answers 400/17400 for an Edge, Direction, ProcessingState or Status outside the enum', async () => {
    await expectError(await s.api(`/v1/Voice/${sid}/Metrics?Edge=sdk`), 400, 17400, /Edge: "sdk" is not one of carrier_edge/);
    await expectError(await s.api(`/v1/Voice/${sid}/Metrics?Direction=up`), 400, 17400, /Direction/);
    await expectError(await s.api(`/v1/Voice/${sid}/Events?Edge=x`), 400, 17400, /Edge/);
    await expectError(await s.api(`/v1/Voice/${sid}/Summary?ProcessingState=all`), 400, 17400, /ProcessingState/);
    await expectError(await s.api(`/2010-04-01/Accounts/${s.simulator.accounts.accountSids()[0]}/Calls.json?Status=live`), 400, 17400, /Status/);
    await s.control.setVariant({ invalid_param_code: 20001 });
    await expectError(await s.api(`/v1/Voice/${sid}/Metrics?Edge=sdk`), 400, 20001);
    await s.control.setVariant({});
  });

  it('answers 400 for PageSize that is not an integer in 1..1000, and for a negative Page', async () => {
    for (const size of ['0', '1001', '-1', 'abc', '2.5', '']) {
      await expectError(await s.api(`/v1/Voice/${sid}/Metrics?PageSize=${size}`), 400, 17400, /PageSize/);
    }
    for (const size of ['1', '1000']) expect((await s.api(`/v1/Voice/${sid}/Metrics?PageSize=${size}`)).status).toBe(200);
    await expectError(await s.api(`/v1/Voice/${sid}/Metrics?Page=-1`), 400, 17400, /Page:/);
  });

  it('treats Page without a token as client state: echoed, first page served', async () => {
    const response = await s.api(`/v1/Voice/${sid}/Metrics?Page=4&PageSize=2`);
    const body = (await response.json()) as { meta: { page: number; previous_page_url: unknown }; metrics: Array<{ timestamp: string }> };
    expect(body.meta.page).toBe(4);
    expect(body.meta.previous_page_url).toBeNull();
    expect(body.metrics[0]?.timestamp).toBe(s.simulator.visibleSamples(sid, { edge: 'sdk_edge' })[0]?.timestamp);
  });

  it('answers 405/20004 for other methods on API paths and 404/20404 for unknown paths', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      await expectError(await s.api(`/v1/Voice/${sid}/Metrics`, { method }), 405, 20004, /not allowed/);
    }
    await expectError(await s.api(`/2010-04-01/Accounts/${s.simulator.accounts.accountSids()[0]}/Calls.json`, { method: 'POST' }), 405, 20004);
    await expectError(await s.api('/v1/Voice/Settings', { method: 'DELETE' }), 405, 20004);
    await expectError(await s.api('/v1/Voice/Summaries'), 404, 20404, 'The requested resource /v1/Voice/Summaries was not found');
    await expectError(await s.api(`/v1/voice/${sid}/metrics`), 404, 20404);
    await expectError(await fetch(`${s.url}/`), 404, 20404);
  });

  it('puts the Twilio headers on every response, errors included', async () => {
    for (const path of [`/v1/Voice/${sid}/Metrics`, '/v1/Voice/CAnope/Metrics', '/nowhere', `/2010-04-01/Accounts/${s.simulator.accounts.accountSids()[0]}/Calls.json`]) {
      const response = await s.api(path);
      expect(response.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
      expect(response.headers.get('twilio-concurrent-requests')).toMatch(/^\d+$/);
      expect(response.headers.get('x-home-region')).toBe('us1');
      expect(response.headers.get('x-api-domain')).toBe(path.startsWith('/2010') ? 'api.twilio.com' : 'insights.twilio.com');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-expose-headers')).toBe('ETag');
      if (path !== '/nowhere') expect(response.headers.get('twilio-request-duration')).toMatch(/^\d+\.\d{3}$/);
    }
    const one = await s.api(`/v1/Voice/${sid}/Metrics`);
    const two = await s.api(`/v1/Voice/${sid}/Metrics`);
    expect(one.headers.get('twilio-request-id')).not.toBe(two.headers.get('twilio-request-id'));
    expect(one.headers.get('twilio-concurrent-requests')).toBe('1');
  });
});
