import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/types.ts';
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
  readonly listenAddress?: string;
  readonly webConfigFile?: string;
}

// The listen address the exporter would use: the flag, else the config's (the demo's on loopback only).
function listenAddressOf(flags: ExporterFlags, load: () => Config, demo: boolean): string {
  if (flags.listenAddress !== undefined) return flags.listenAddress;
  const address = load().web.listenAddress;
  return demo ? `127.0.0.1:${parseListenAddress(address).port}` : address;
}

/**
 * Runs `--healthcheck`, writes its verdict (stdout when healthy, stderr otherwise) and returns the exit code.
 * `load` reads the configuration exactly as the exporter would with the same flags; `demo` says it runs the demo.
 */
export async function healthcheckMain(flags: ExporterFlags, check: HealthcheckFlags, load: () => Config, demo: boolean): Promise<number> {
  let listenAddress: string;
  let webConfig: WebConfig | undefined;
  try {
    listenAddress = listenAddressOf(flags, load, demo);
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
