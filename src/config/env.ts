import { resolve } from 'node:path';

import { formatPath } from './issues.ts';
import { EACH } from './schema-walk.ts';
import type { SchemaLeaf } from './schema-walk.ts';

/** Prefix of the variables that override settings: `TWILIO_INSIGHTS_EXPORTER_POLL_INTERVAL` sets `poll_interval`. */
export const ENV_PREFIX = 'TWILIO_INSIGHTS_EXPORTER_';

/** Environment variables that supply the single account's credentials, as the Twilio SDKs and CLI name them. */
export const CREDENTIAL_ENV = {
  accountSid: 'TWILIO_ACCOUNT_SID',
  authToken: 'TWILIO_AUTH_TOKEN',
  apiKey: 'TWILIO_API_KEY',
  apiSecret: 'TWILIO_API_SECRET',
} as const;

/** Environment variables that override the single account's base URLs, with the keys they set. */
export const BASE_URL_ENV = [
  ['TWILIO_INSIGHTS_BASE_URL', 'insights_base_url'],
  ['TWILIO_API_BASE_URL', 'api_base_url'],
] as const;

const TOKEN_KEYS = ['auth_token', 'auth_token_file'];
const API_KEY_KEYS = ['api_key_sid', 'api_key_secret', 'api_key_secret_file'];

/** The result of laying the environment over the parsed file. */
export interface EnvOverlay {
  /** The file's settings with the environment applied (a copy; the input is not changed). */
  readonly raw: Record<string, unknown>;
  /** Problems with the environment itself, each `<NAME or key.path>: <rule>`. */
  readonly problems: string[];
  /** Formatted key path → the environment variable that set it, so schema problems can name the variable. */
  readonly sources: ReadonlyMap<string, string>;
  /** True when account variables were set but could not make an account (their problem says why). */
  readonly accountFromEnvFailed: boolean;
}

/** Returns the environment variable that overrides the setting at `path` (`['log', 'level']` → `…_LOG_LEVEL`). */
export function envSettingName(path: readonly string[]): string {
  return ENV_PREFIX + path.join('_').toUpperCase();
}

/** Lists the settings the environment can override: scalars and scalar lists outside `accounts` and `calls`. */
export function envSettings(leaves: readonly SchemaLeaf[]): SchemaLeaf[] {
  return leaves.filter((l) => !l.path.includes(EACH) && l.kind !== 'map');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Interprets an environment string as the YAML value kind the key takes; a value that does not fit is passed
// through as a string so the schema reports it (named after the variable).
function convert(value: string, kind: SchemaLeaf['kind']): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    case 'boolean': {
      const v = value.trim().toLowerCase();
      return v === 'true' ? true : v === 'false' ? false : value;
    }
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return value;
  }
}

// Finds or creates the mapping at `path`; undefined when the file holds something else there (the schema reports it).
function mappingAt(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  let node = root;
  for (const key of path) {
    const child = node[key];
    if (child === undefined) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else if (isRecord(child)) {
      node = child;
    } else {
      return undefined;
    }
  }
  return node;
}

class Overlay {
  readonly problems: string[] = [];
  readonly sources = new Map<string, string>();
  accountFromEnvFailed = false;
  readonly raw: Record<string, unknown>;
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(raw: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>) {
    this.raw = raw;
    this.#env = env;
  }

  /** An environment variable's value; empty counts as unset. */
  get(name: string): string | undefined {
    const v = this.#env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  names(): string[] {
    return Object.keys(this.#env).filter((n) => this.get(n) !== undefined);
  }

  set(target: Record<string, unknown>, path: readonly (string | number)[], value: unknown, envName: string): void {
    const key = path.at(-1);
    if (key === undefined) return;
    target[key] = value;
    this.sources.set(formatPath(path), envName);
  }
}

function applyAccountEnv(o: Overlay): void {
  const { accountSid: SID, authToken: TOKEN, apiKey: KEY, apiSecret: SECRET } = CREDENTIAL_ENV;
  const credentialVars = [SID, TOKEN, KEY, SECRET].filter((n) => o.get(n) !== undefined);
  const urlVars = BASE_URL_ENV.filter(([n]) => o.get(n) !== undefined);
  if (credentialVars.length === 0 && urlVars.length === 0) return;

  const accounts = o.raw.accounts;
  if (accounts !== undefined && !Array.isArray(accounts)) return; // the schema reports the file's value
  const list: unknown[] = accounts ?? [];
  if (list.length > 1) {
    for (const n of [...credentialVars, ...urlVars.map(([v]) => v)]) {
      o.problems.push(`${n}: applies only when exactly one account is configured (found ${list.length})`);
    }
    return;
  }
  const otherKind = o.get(KEY) !== undefined ? KEY : o.get(SECRET) !== undefined ? SECRET : undefined;
  if (o.get(TOKEN) !== undefined && otherKind !== undefined) {
    o.problems.push(`${TOKEN}: set only one of ${TOKEN}, ${otherKind}`);
    o.accountFromEnvFailed = list.length === 0;
    return;
  }

  let target: Record<string, unknown>;
  const created = list.length === 0;
  if (!created) {
    const only = list[0];
    if (!isRecord(only)) return;
    target = only;
  } else {
    if (credentialVars.length === 0) return; // base URLs alone configure no account
    const missing =
      o.get(SID) === undefined
        ? `${credentialVars[0] ?? TOKEN}: requires ${SID}`
        : credentialVars.length === 1
          ? `${SID}: requires ${TOKEN}, or ${KEY} and ${SECRET}`
          : o.get(KEY) !== undefined && o.get(SECRET) === undefined
            ? `${KEY}: requires ${SECRET}`
            : o.get(SECRET) !== undefined && o.get(KEY) === undefined
              ? `${SECRET}: requires ${KEY}`
              : undefined;
    if (missing !== undefined) {
      o.problems.push(missing);
      o.accountFromEnvFailed = true;
      return;
    }
    target = {};
  }

  const at = (key: string) => ['accounts', 0, key] as const;
  const sid = o.get(SID);
  if (sid !== undefined) {
    if (target.account_sid === undefined) o.set(target, at('account_sid'), sid, SID);
    else if (target.account_sid !== sid) {
      o.problems.push(`${formatPath(at('account_sid'))}: conflicts with ${SID} (set only one, or the same value)`);
    }
  }
  // Each secret has exactly one source: an environment credential may only fill a gap the file leaves.
  const fill = (key: string, envName: string, conflicts: readonly string[]) => {
    const value = o.get(envName);
    if (value === undefined) return;
    const clash = conflicts.find((k) => target[k] !== undefined);
    if (clash !== undefined) o.problems.push(`${formatPath(at(clash))}: conflicts with ${envName} (set only one)`);
    else o.set(target, at(key), value, envName);
  };
  fill('auth_token', TOKEN, [...TOKEN_KEYS, ...API_KEY_KEYS]);
  fill('api_key_sid', KEY, [...TOKEN_KEYS, 'api_key_sid']);
  fill('api_key_secret', SECRET, [...TOKEN_KEYS, 'api_key_secret', 'api_key_secret_file']);
  for (const [envName, key] of urlVars) o.set(target, at(key), o.get(envName), envName);

  if (created) o.raw.accounts = [target];
}

function applySettingsEnv(o: Overlay, leaves: readonly SchemaLeaf[], cwd: string): void {
  const settings = envSettings(leaves);
  const known = new Set(settings.map((l) => envSettingName(l.path)));
  for (const leaf of settings) {
    const name = envSettingName(leaf.path);
    const value = o.get(name);
    if (value === undefined) continue;
    const parentPath = leaf.path.slice(0, -1);
    const key = leaf.path.at(-1) ?? '';
    // A secret `x` and its `x_file` are two sources of one value: together they are an error.
    const base = key.endsWith('_file') ? key.slice(0, -'_file'.length) : key;
    const pair = [base, `${base}_file`];
    const isSecret = pair.every((k) => known.has(envSettingName([...parentPath, k])));
    const parent = mappingAt(o.raw, parentPath);
    if (parent === undefined) continue;
    if (isSecret) {
      const fileEnv = envSettingName([...parentPath, `${base}_file`]);
      if (key === base && o.get(fileEnv) !== undefined) {
        o.problems.push(`${name}: set only one of ${name}, ${fileEnv}`);
        continue;
      }
      if (key !== base && o.get(envSettingName([...parentPath, base])) !== undefined) continue;
      const clash = pair.find((k) => parent[k] !== undefined);
      if (clash !== undefined) {
        o.problems.push(`${formatPath([...parentPath, clash])}: conflicts with ${name} (set only one)`);
        continue;
      }
    }
    // A file path from the environment is relative to the working directory, not to the config file.
    const converted = isSecret && key !== base ? resolve(cwd, value) : convert(value, leaf.kind);
    o.set(parent, leaf.path, converted, name);
  }
  for (const name of o.names()) {
    if (name.startsWith(ENV_PREFIX) && !known.has(name)) o.problems.push(`${name}: unknown setting`);
  }
}

/**
 * Lays the environment over the file's settings: `TWILIO_ACCOUNT_SID` with `TWILIO_AUTH_TOKEN` (or `TWILIO_API_KEY`
 * and `TWILIO_API_SECRET`) fill in the single account, `TWILIO_INSIGHTS_BASE_URL`/`TWILIO_API_BASE_URL` override its
 * base URLs, and `TWILIO_INSIGHTS_EXPORTER_<KEY_PATH>` overrides a setting. Empty variables count as unset. With
 * `credentials: false` the account variables (credentials and base URLs) are left out.
 */
export function applyEnv(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  leaves: readonly SchemaLeaf[],
  opts: { readonly credentials: boolean } = { credentials: true },
): EnvOverlay {
  const o = new Overlay(structuredClone(raw), env);
  if (opts.credentials) applyAccountEnv(o);
  applySettingsEnv(o, leaves, cwd);
  return { raw: o.raw, problems: o.problems, sources: o.sources, accountFromEnvFailed: o.accountFromEnvFailed };
}
