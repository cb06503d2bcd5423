import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseConfigYaml } from './config/yaml-source.ts';
import { CALL_TYPES } from './samples/sample.ts';
import { SimulatorControl } from './simulator/control-client.ts';
import { startSimulator } from './simulator/server.ts';
import type { RunningSimulator } from './simulator/server.ts';

/** The demo's embedded simulator and the driver that keeps calls starting and ending. */
export interface Demo {
  readonly simulator: RunningSimulator;
  stop(): Promise<void>;
}

const TYPES = CALL_TYPES;

/**
 * The demo's settings: config/demo.yaml (readable by anyone wondering what the demo runs with) with its account
 * pointed at the embedded simulator's URL.
 */
export function demoConfig(simulatorUrl: string): Record<string, unknown> {
  const raw = parseConfigYaml(readFileSync(resolve(import.meta.dirname, '../config/demo.yaml'), 'utf8'));
  const accounts = (raw['accounts'] as Array<Record<string, unknown>>).map((a) => ({
    ...a,
    insights_base_url: simulatorUrl,
    api_base_url: simulatorUrl,
  }));
  return { ...raw, accounts };
}

/**
 * Starts the built-in simulator on loopback with two calls of each type already running (so values
 * appear at once), then starts a new call every 20 s that lasts a few minutes, so discovery, draining
 * and expiry can be watched.
 */
export async function startDemo(logger: Logger, seed = 42): Promise<Demo> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, lagSeconds: 2, seed });
  // Over HTTP, like any client of the simulator: the demo drives it as a test would.
  const control = new SimulatorControl(simulator.url);
  for (const type of TYPES) {
    await control.createCall({ type, age_seconds: 120, duration_seconds: 1800 });
    await control.createCall({ type, age_seconds: 30, duration_seconds: 900, degraded: true });
  }
  let n = 0;
  const timer = setInterval(() => {
    const type = TYPES[n++ % TYPES.length]!;
    control.createCall({ type, duration_seconds: 120 + (n % 4) * 60, degraded: n % 3 === 0 }).catch((err: unknown) =>
      logger.warn({ err: String(err) }, 'demo could not start a call'),
    );
  }, 20_000);
  return {
    simulator,
    async stop(): Promise<void> {
      clearInterval(timer);
      await simulator.close();
    },
  };
}
