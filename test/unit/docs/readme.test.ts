import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_METRICS } from '../../../src/metrics/definitions.ts';
import { metricsTableMarkdown } from '../../../src/metrics/docs.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('carries the metrics table generated from the definitions (run npm run docs:metrics to refresh)', () => {
    const begin = '<!-- metrics-table:begin -->\n';
    const end = '<!-- metrics-table:end -->';
    const section = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end)).trim();
    expect(section).toBe(metricsTableMarkdown());
  });

  it('documents every metric by name', () => {
    const missing = ALL_METRICS.filter((d) => !readme.includes(`\`${d.name}\``)).map((d) => d.name);
    expect(missing).toEqual([]);
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
