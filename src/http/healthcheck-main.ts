import { resolve } from 'node:path';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { parseListenAddress } from '../config/listen-address.ts';
import { runHealthcheck } from './healthcheck.ts';
import type { HealthcheckResult } from './healthcheck.ts';
import { loadWebConfig } from './web-config.ts';
import type { WebConfig } from './web-config.ts';

/** The `--healthcheck.*` flags. */
export interface HealthcheckFlags {
  /** `--healthcheck.username` [the web config's only user]. */
  readonly username?: string;
  /** `--healthcheck.password-file` [none]. */
  readonly passwordFile?: string;
}

/** The exporter flags the check reads to find the listener, as the exporter itself read them. */
export interface ExporterFlags {
  readonly configFile?: string;
  readonly listenAddress?: string;
  readonly webConfigFile?: string;
  readonly demo: boolean;
}

const DEMO_CONFIG = resolve(import.meta.dirname, '../../config/demo.yaml');

// The listen address the exporter would use with these flags: the flag, else the config's (the demo's on loopback).
function listenAddressOf(flags: ExporterFlags, env: NodeJS.ProcessEnv): string {
  if (flags.listenAddress !== undefined) return flags.listenAddress;
  const demo = flags.demo && flags.configFile === undefined && !env['TWILIO_ACCOUNT_SID'] && !env['TWILIO_API_KEY'];
  if (demo) {
    const demoEnv = { ...env };
    for (const k of ['TWILIO_AUTH_TOKEN', 'TWILIO_API_SECRET']) delete demoEnv[k];
    return `127.0.0.1:${parseListenAddress(loadConfig({ file: DEMO_CONFIG, env: demoEnv }).web.listenAddress).port}`;
  }
  return loadConfig({ ...(flags.configFile !== undefined && { file: flags.configFile }), env }).web.listenAddress;
}

/** Runs `--healthcheck`, writes its verdict (stdout when healthy, stderr otherwise) and returns the exit code. */
export async function healthcheckMain(flags: ExporterFlags, check: HealthcheckFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let listenAddress: string;
  let webConfig: WebConfig | undefined;
  try {
    listenAddress = listenAddressOf(flags, env);
    if (flags.webConfigFile !== undefined) webConfig = loadWebConfig(flags.webConfigFile);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    process.stderr.write(`healthcheck: invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  const result: HealthcheckResult = await runHealthcheck({ listenAddress, ...(webConfig && { webConfig }), ...check });
  (result.code === 0 ? process.stdout : process.stderr).write(`healthcheck: ${result.message}\n`);
  return result.code;
}
