import { ConfigError } from '../config/errors.ts';
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

/**
 * Runs `--healthcheck`, writes its verdict (stdout when healthy, stderr otherwise) and returns the exit code.
 * `listenAddress` gives the address the exporter listens on, worked out as the exporter would (it may throw a
 * ConfigError); `webConfigFile` is the `--web.config.file` the exporter was given.
 */
export async function healthcheckMain(listenAddress: () => string, webConfigFile: string | undefined, check: HealthcheckFlags): Promise<number> {
  let address: string;
  let webConfig: WebConfig | undefined;
  try {
    address = listenAddress();
    if (webConfigFile !== undefined) webConfig = loadWebConfig(webConfigFile);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    process.stderr.write(`healthcheck: invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  const result: HealthcheckResult = await runHealthcheck({ listenAddress: address, ...(webConfig && { webConfig }), ...check });
  (result.code === 0 ? process.stdout : process.stderr).write(`healthcheck: ${result.message}\n`);
  return result.code;
}
