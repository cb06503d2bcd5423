import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { createExporter } from '../../src/exporter.ts';
import type { Exporter } from '../../src/exporter.ts';
import type { Sample } from '../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';

// Enough series (about 10 MB of text) that a paused reader leaves most of the body in the server's hands, past
// what the loopback socket buffers absorb.
const CALLS = 6000;
const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;

function exporterWithCalls(): Exporter {
  const config = loadConfig({
    env: { TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid, TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken, TWILIO_INSIGHTS_EXPORTER_MAX_CALLS: String(CALLS) },
  });
  const exporter = createExporter({ config, logger: pino({ level: 'silent' }) });
  for (let i = 0; i < CALLS; i++) {
    exporter.registry.track(sid(i), DEMO_ACCOUNT.accountSid, 'config');
    exporter.store.apply([sample(i, 1, 1000 + i)]);
  }
  return exporter;
}

function sample(i: number, second: number, packets: number): Sample {
  return {
    callSid: sid(i),
    accountSid: DEMO_ACCOUNT.accountSid,
    edge: 'sdk_edge',
    direction: 'both',
    timestampMs: Date.now() - 60_000 + second * 1000,
    values: {
      mos: 4 + (i % 50) / 100,
      rttSeconds: 0.05,
      jitterSeconds: 0.004,
      jitterAvgSeconds: 0.003,
      jitterMaxSeconds: 0.02,
      packetLossRatio: 0.001,
      audioInLevel: 1000,
      audioOutLevel: 2000,
      packetsSent: packets,
      packetsReceived: packets,
      packetsLost: 1,
      bytesSent: packets * 160,
      bytesReceived: packets * 160,
    },
  };
}

// The per-call lines of an exposition, sorted: what must not change between a render and its delivery.
const callLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('twilio_call_mos{') || l.startsWith('twilio_call_packets_received_total{')).sort();

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(url, resolve).on('error', reject).end());
}

async function readAll(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of res) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('/metrics sends the render buffers it reuses', () => {
  it('a scrape still being read keeps its bytes while later scrapes render changed values', { timeout: 60_000 }, async () => {
    const exporter = exporterWithCalls();
    const server = createServer(exporter.app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    stop = async () => {
      server.closeAllConnections();
      server.close();
      await exporter.stop();
    };
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/metrics`;
    const before = callLines((await exporter.prometheus.render('text')).text());
    expect(before).toHaveLength(2 * CALLS);

    // A slow reader: its response is rendered, then left unread while two more scrapes render new values.
    const slow = await get(url);
    slow.pause();
    expect(Number(slow.headers['content-length'])).toBeGreaterThan(8_000_000);
    const first = await readAll(await get(url));
    expect(callLines(first)).toEqual(before);
    for (let i = 0; i < CALLS; i++) exporter.store.apply([sample(i, 2, 900_000 + i)]);
    const changed = await readAll(await get(url));
    expect(callLines(changed)).not.toEqual(before);
    expect(changed).toContain(`twilio_call_packets_received_total{call_sid="${sid(7)}",edge="sdk_edge",direction="both"} 900007`);
    const again = await readAll(await get(url));
    expect(callLines(again)).toEqual(callLines(changed));

    slow.resume();
    const late = await readAll(slow);
    expect(Buffer.byteLength(late)).toBe(Number(slow.headers['content-length']));
    expect(callLines(late)).toEqual(before);
  });
});
