import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { basicAuth, startTestSimulator } from '../../helpers/simulator.ts';

const OTHER = {
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  authToken: 'other-token',
  apiKeys: [{ sid: 'SK0123456789abcdef0123456789abcdef', secret: 'other-secret' }],
};
const DEMO = {
  accountSid: DEMO_ACCOUNT.accountSid,
  authToken: DEMO_ACCOUNT.authToken,
  apiKeys: [{ sid: DEMO_ACCOUNT.apiKeySid, secret: DEMO_ACCOUNT.apiKeySecret }],
};

let s: TestSimulator;
let demoCall: string;
let otherCall: string;
beforeAll(async () => {
  s = await startTestSimulator({ accounts: [DEMO, OTHER] });
  demoCall = s.simulator.createCall({ type: 'carrier', ageSeconds: 60 }).sid;
  otherCall = s.simulator.createCall({ type: 'carrier', ageSeconds: 60, accountSid: OTHER.accountSid }).sid;
});
afterAll(() => s.close());

const get = (path: string, authorization?: string): Promise<Response> =>
  fetch(`${s.url}${path}`, authorization === undefined ? {} : { headers: { authorization } });

async function expect401(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await response.json()).toEqual({
    code: 20003,
    message: 'Authenticate',
    more_info: 'https://www.twilio.com/docs/errors/20003',
    status: 401,
  });
}

describe('Basic authentication', () => {
  it('accepts Account SID + Auth Token and API Key SID + secret of the same account', async () => {
    const path = `/v1/Voice/${demoCall}/Metrics`;
    expect((await get(path, basicAuth(DEMO.accountSid, DEMO.authToken))).status).toBe(200);
    expect((await get(path, basicAuth(DEMO_ACCOUNT.apiKeySid, DEMO_ACCOUNT.apiKeySecret))).status).toBe(200);
    expect((await get('/v1/Voice/Settings', basicAuth(OTHER.apiKeys[0]?.sid ?? '', 'other-secret'))).status).toBe(200);
  });

  it('answers 401/20003 with the Basic challenge for missing, malformed and wrong credentials', async () => {
    const path = `/v1/Voice/${demoCall}/Metrics`;
    await expect401(await get(path));
    await expect401(await get(path, 'Bearer abc'));
    await expect401(await get(path, 'Basic !!!'));
    await expect401(await get(path, `Basic ${Buffer.from('no-colon').toString('base64')}`));
    await expect401(await get(path, basicAuth(DEMO.accountSid, 'wrong')));
    await expect401(await get(path, basicAuth(DEMO.accountSid, OTHER.authToken)));
    await expect401(await get(path, basicAuth(DEMO_ACCOUNT.apiKeySid, DEMO.authToken)));
    await expect401(await get(path, basicAuth('ACffffffffffffffffffffffffffffffff', 'x')));
    await expect401(await get(`/2010-04-01/Accounts/${DEMO.accountSid}/Calls.json`));
    await expect401(await get('/v1/Voice/Settings', basicAuth(DEMO.accountSid, '')));
  });

  it('answers 401/20003 when a 2010 path names another account than the credentials', async () => {
    await expect401(await get(`/2010-04-01/Accounts/${OTHER.accountSid}/Calls.json`, basicAuth(DEMO.accountSid, DEMO.authToken)));
    const own = await get(`/2010-04-01/Accounts/${OTHER.accountSid}/Calls.json`, basicAuth(OTHER.apiKeys[0]?.sid ?? '', 'other-secret'));
    expect(own.status).toBe(200);
    expect(((await own.json()) as { calls: Array<{ sid: string }> }).calls.map((c) => c.sid)).toEqual([otherCall]);
  });

  it("hides another account's call behind 404/20404", async () => {
    for (const route of ['Metrics', 'Events', 'Summary']) {
      const response = await get(`/v1/Voice/${otherCall}/${route}?ProcessingState=partial`, basicAuth(DEMO.accountSid, DEMO.authToken));
      expect(response.status).toBe(404);
      expect(((await response.json()) as { code: number }).code).toBe(20404);
    }
  });

  it('refuses a bad account list at start with a message naming the problem', async () => {
    await expect(startTestSimulator({ accounts: [] })).rejects.toThrow(/at least one account/);
    await expect(startTestSimulator({ accounts: [{ accountSid: 'AC1', authToken: 't' }] })).rejects.toThrow(/must match/);
    await expect(startTestSimulator({ accounts: [DEMO, DEMO] })).rejects.toThrow(/configured twice/);
    await expect(startTestSimulator({ accounts: [{ ...OTHER, apiKeys: [{ sid: 'SKx', secret: 's' }] }] })).rejects.toThrow(/API key SID/);
  });
});
