import { SimulatorControl } from '../../src/simulator/control-client.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { RunningSimulator, SimulatorOptions } from '../../src/simulator/server.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { Dispatcher } from 'undici';
import { createTwilioClient } from '../../src/twilio/client.ts';
import type { TwilioClient } from '../../src/twilio/client.ts';

/** A simulator on 127.0.0.1:0 with an HTTP control client and ready-made demo credentials. */
export interface TestSimulator extends RunningSimulator {
  /** The `/_simulator/` control API over HTTP. */
  readonly control: SimulatorControl;
  /** `Authorization` header value for the demo account (Account SID + Auth Token). */
  readonly authHeader: string;
  /** GET (or another method) on the public API with the demo credentials unless headers say otherwise. */
  api(pathOrUrl: string, init?: RequestInit): Promise<Response>;
}

/** `Basic base64(user:password)`. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A Twilio client of the demo account whose Insights and REST base URLs are the simulator at `url`. */
export function demoClient(url: string, dispatcher: Dispatcher, userAgent: string, requestTimeoutMs = 10_000): TwilioClient {
  return createTwilioClient({
    accountSid: DEMO_ACCOUNT.accountSid,
    credentials: () => ({ username: DEMO_ACCOUNT.accountSid, password: { reveal: () => DEMO_ACCOUNT.authToken } }),
    insightsBaseUrl: url,
    apiBaseUrl: url,
    dispatcher,
    userAgent,
    requestTimeoutMs,
  });
}

/** Starts a simulator for a test (loopback, free port; lag 0 unless given). Close it when done. */
export async function startTestSimulator(options: SimulatorOptions = {}): Promise<TestSimulator> {
  const running = await startSimulator({ lagSeconds: 0, ...options, host: '127.0.0.1', port: 0 });
  const authHeader = basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken);
  return {
    ...running,
    control: new SimulatorControl(running.url),
    authHeader,
    api: (pathOrUrl, init = {}) =>
      fetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${running.url}${pathOrUrl}`, {
        ...init,
        headers: { authorization: authHeader, ...(init.headers as Record<string, string> | undefined) },
      }),
  };
}

/** Runs `body` with a fresh test simulator and always closes it. */
export async function withSimulator<T>(options: SimulatorOptions, body: (sim: TestSimulator) => Promise<T>): Promise<T> {
  const sim = await startTestSimulator(options);
  try {
    return await body(sim);
  } finally {
    await sim.close();
  }
}
