// Prints the README metrics table generated from the definitions; with --write, replaces it in README.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { metricsTableMarkdown } from '../src/metrics/docs.ts';

const table = metricsTableMarkdown();
if (process.argv.includes('--write')) {
  const file = new URL('../README.md', import.meta.url);
  const readme = readFileSync(file, 'utf8');
  const begin = '<!-- metrics-table:begin -->\n';
  const end = '<!-- metrics-table:end -->';
  const i = readme.indexOf(begin) + begin.length;
  const j = readme.indexOf(end);
  writeFileSync(file, `${readme.slice(0, i)}${table}\n${readme.slice(j)}`);
} else {
  process.stdout.write(`${table}\n`);
}
