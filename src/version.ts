import { readFileSync } from 'node:fs';

/** The exporter's version, from package.json (read once at start). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
