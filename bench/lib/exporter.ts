import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { createExporter } from '../../src/exporter.ts';
import type { Exporter } from '../../src/exporter.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';

/** The account every benchmark uses (the simulator's demo account). */
export const ACCOUNT_SID = DEMO_ACCOUNT.accountSid;

/** A validated config for one account at `simulatorUrl`, through the real loader; `extra` is merged into the YAML. */
export function benchConfig(simulatorUrl: string, extra: Record<string, unknown> = {}, account: Record<string, unknown> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'tie-bench-'));
  const file = join(dir, 'config.yaml');
  try {
    const doc = {
      accounts: [
        {
          account_sid: DEMO_ACCOUNT.accountSid,
          auth_token: DEMO_ACCOUNT.authToken,
          insights_base_url: simulatorUrl,
          api_base_url: simulatorUrl,
          ...account,
        },
      ],
      log: { level: 'warn' },
      ...extra,
    };
    writeFileSync(file, stringify(doc));
    return loadConfig({ file, env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An exporter wired by createExporter, not started, silent, with an optional clock. */
export function benchExporter(config: Config, now?: () => number): Exporter {
  return createExporter({ config, logger: pino({ level: 'silent' }), ...(now && { now }) });
}

/** A valid, distinct Call SID per index. */
export function callSid(i: number): string {
  return `CA${i.toString(16).padStart(32, '0')}`;
}
