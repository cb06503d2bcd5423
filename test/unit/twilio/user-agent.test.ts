import { arch, platform } from 'node:os';
import { describe, expect, it } from 'vitest';
import { userAgent } from '../../../src/twilio/user-agent.ts';

describe('userAgent', () => {
  it('follows the twilio-node shape with the exporter name and version', () => {
    expect(userAgent('1.2.3')).toBe(`twilio-insights-exporter/1.2.3 (${platform()} ${arch()}) node/${process.version}`);
    expect(userAgent('0.1.0')).toMatch(/^twilio-insights-exporter\/0\.1\.0 \(\w+ \w+\) node\/v\d+\.\d+\.\d+$/);
  });
});
