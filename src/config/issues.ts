import type { z } from 'zod';

const TYPE_RULES: Readonly<Record<string, string>> = {
  string: 'must be a string',
  number: 'must be a number',
  boolean: 'must be true or false',
  object: 'must be a mapping',
  record: 'must be a mapping',
  array: 'must be a list',
};

/**
 * Zod error map giving the generic rules in the words of the config docs; rules set on the schema itself win.
 * It never quotes the input, so a secret given in the wrong place cannot reach a message.
 */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type') {
    if (iss.input === undefined) return 'is required';
    // YAML reads unquoted digits as a number, which would silently lose digits of a long token or SID.
    if (iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean')) {
      return 'must be a string (put the value in quotes)';
    }
    return TYPE_RULES[iss.expected] ?? `must be of type ${iss.expected}`;
  }
  if (iss.code === 'invalid_value') return `must be one of ${iss.values.map(String).join(', ')}`;
  return undefined;
};

/** Formats a YAML key path the way users read it: `accounts[0].account_sid`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[^\s.[\]"]+$/.test(String(segment))) out += out === '' ? String(segment) : `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(root)' : out;
}

function collect(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  label: (path: readonly PropertyKey[]) => string,
  out: string[],
): void {
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) out.push(`${label([...path, key])}: unknown key`);
    } else if (iss.code === 'invalid_union') {
      // Report the one branch whose type matched (a string or a mapping), else the union's own rule.
      const matching = iss.errors.filter(
        (branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0),
      );
      const only = matching.length === 1 ? matching[0] : undefined;
      if (only !== undefined) collect(only, path, label, out);
      else out.push(`${label(path)}: ${iss.message}`);
    } else {
      out.push(`${label(path)}: ${iss.message}`);
    }
  }
}

/**
 * Turns zod issues into `<key.path>: <rule>` problems, in order and without duplicates;
 * `rename` swaps a key path for the environment variable that supplied it.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  rename: (keyPath: string) => string = (p) => p,
): string[] {
  const out: string[] = [];
  collect(issues, [], (path) => rename(formatPath(path)), out);
  return [...new Set(out)];
}
