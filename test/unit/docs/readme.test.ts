import { spawnSync } from 'node:child_process';
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

  // Probe L #9: --help listed --version; the README's flag table did not.
  it('has a row in the flag table for every flag --help lists', { timeout: 30_000 }, () => {
    const root = new URL('../../..', import.meta.url).pathname;
    const help = spawnSync(process.execPath, ['src/main.ts', '--help'], { cwd: root, encoding: 'utf8', timeout: 30_000 }).stdout;
    const flags = [...new Set([...help.matchAll(/^\s+(?:-h, )?(--[a-z][a-z.-]*)/gm)].map((m) => m[1]!))];
    expect(flags).toContain('--config.check');
    const section = readme.slice(readme.indexOf('## Flags'), readme.indexOf('## Configuration'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `-'));
    expect(flags.filter((f) => !rows.some((r) => new RegExp(`\`${f.replace(/[.]/g, '\\.')}[=\`]`).test(r)))).toEqual([]);
  });
});
