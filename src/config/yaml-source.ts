import { LineCounter, parseDocument } from 'yaml';
import type { YAMLError } from 'yaml';

import { ConfigError } from './errors.ts';

// Messages that would quote the offending source text (which may be a secret) get a fixed wording instead.
const SAFE_MESSAGES: Readonly<Partial<Record<YAMLError['code'], string>>> = {
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_SCALAR_START: 'a plain value cannot start with this character',
  TAG_RESOLVE_FAILED: 'unresolved tag',
  BAD_DIRECTIVE: 'invalid directive',
  MULTIPLE_DOCS: 'a config file holds one YAML document',
};

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function problem(error: YAMLError, lines: LineCounter): string {
  const { line, col } = lines.linePos(error.pos[0]);
  // yaml appends quoted source after a colon ("Block scalar header includes extra characters: …"): drop it.
  const head = SAFE_MESSAGES[error.code] ?? error.message.split(': ')[0] ?? error.code;
  return `yaml: line ${line}, column ${col}: ${lowerFirst(head)}`;
}

// Object.fromEntries defines each key as an own property: assigning `out['__proto__']` would set the object's
// prototype instead, and the strict schema would never see the key to refuse it.
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)]));
  }
  return value;
}

/**
 * Parses the text of a config file into plain settings. An empty document gives `{}`, and a key with no value
 * (`admin:` with everything under it commented out) counts as unset; throws {@link ConfigError} with
 * `yaml: line L, column C: <rule>` problems for a syntax error, without quoting the source.
 */
export function parseConfigYaml(text: string): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => problem(e, lines)));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`yaml: ${lowerFirst((err as Error).message.split(': ')[0] ?? 'cannot convert')}`]);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(['yaml: the top level must be a mapping of settings']);
  }
  return dropNulls(value) as Record<string, unknown>;
}
