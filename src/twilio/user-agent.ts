import { arch, platform } from 'node:os';

/** The exporter's `User-Agent`, shaped like twilio-node's: `twilio-insights-exporter/<version> (<platform> <arch>) node/<process.version>`. */
export function userAgent(version: string): string {
  return `twilio-insights-exporter/${version} (${platform()} ${arch()}) node/${process.version}`;
}
