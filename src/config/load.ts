import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

import { FileTooLargeError, MAX_CONFIG_FILE_BYTES, MAX_SECRET_FILE_BYTES, readFileBounded } from './bounded-read.ts';
import { applyEnv } from './env.ts';
import type { EnvOverlay } from './env.ts';
import { ConfigError } from './errors.ts';
import { configErrorMap, formatIssues } from './issues.ts';
import { ACCOUNTS_REQUIRED, createConfigSchema, webSchema } from './schema.ts';
import { schemaLeaves } from './schema-walk.ts';
import type { Config } from './types.ts';
import { parseConfigYaml } from './yaml-source.ts';

/** Where {@link loadConfig} reads from. */
export interface LoadConfigOptions {
  /** Path of the YAML config file, relative to `cwd`; without it the config comes from the environment alone. */
  file?: string;
  /** Environment variables; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory that relative paths from the command line and the environment start from; default `process.cwd()`. */
  cwd?: string;
  /** Settings given in memory instead of a file (the demo builds its own), in the file's snake_case form. */
  raw?: Record<string, unknown>;
  /** Settings laid under the file: what a key defaults to in this mode of running (e.g. discovery on without a file). */
  defaults?: Record<string, unknown>;
  /** Settings laid over the file and the environment: command-line flags. */
  overrides?: Record<string, unknown>;
  /** Key path of an override (`web.listen_address`) → the flag that set it, so that its problems name the flag [none]. */
  overrideFlags?: Readonly<Record<string, string>>;
  /** Every metric name (the metrics table), so that a `metrics.include`/`exclude` pattern matching none is an error. */
  metricNames?: readonly string[];
  /** Whether `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and friends supply credentials [true]; the demo turns it off. */
  credentialsFromEnv?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lays `top` over `base` key by key (objects merge, anything else replaces); neither input changes. */
export function layer(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(top)) {
    const b = Object.hasOwn(out, k) ? out[k] : undefined;
    // Defined, not assigned: a `__proto__` key stays a key (which the schema refuses), not the prototype.
    Object.defineProperty(out, k, { value: isPlainObject(b) && isPlainObject(v) ? layer(b, v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Reads a `*_file` secret: the whole file (at most 64 KiB), less one trailing newline. */
export function readSecretFile(path: string): string {
  return readFileBounded(path, MAX_SECRET_FILE_BYTES).replace(/\r?\n$/, '');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

// Swaps a key path for the flag or environment variable that supplied it (or the list it is an item of).
function renamer(sources: ReadonlyMap<string, string>): (keyPath: string) => string {
  return (keyPath) => {
    for (const [path, envName] of sources) {
      if (keyPath === path || keyPath.startsWith(`${path}[`) || keyPath.startsWith(`${path}.`)) {
        return envName + keyPath.slice(path.length);
      }
    }
    return keyPath;
  };
}

// Who set each key: a flag beats the environment, as its value does.
function sourcesOf(opts: LoadConfigOptions, overlay: EnvOverlay): ReadonlyMap<string, string> {
  return new Map([...Object.entries(opts.overrideFlags ?? {}), ...overlay.sources]);
}

// The settings as written (the file's, or those given in memory) and the directory their relative paths start from.
function readRaw(opts: LoadConfigOptions, cwd: string): { raw: Record<string, unknown>; baseDir: string } {
  if (opts.file === undefined) return { raw: opts.raw ?? {}, baseDir: cwd };
  const path = resolve(cwd, opts.file);
  let text: string;
  try {
    text = readFileBounded(path, MAX_CONFIG_FILE_BYTES);
  } catch (err) {
    if (err instanceof FileTooLargeError) throw new ConfigError([`${opts.file}: ${err.message}`]);
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`${opts.file}: cannot read (${code})`]);
  }
  return { raw: parseConfigYaml(text), baseDir: dirname(path) };
}

/**
 * Loads the configuration: reads the YAML file if given, lays the environment over it, and validates the result
 * against the one schema into a deeply frozen {@link Config}. Relative `*_file` paths in the file start from the
 * file's directory. Throws {@link ConfigError} listing every problem found; no message contains a secret.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const read = readRaw(opts, opts.cwd ?? process.cwd());
  const schema = createConfigSchema({
    readSecretFile: (p) => readSecretFile(resolve(read.baseDir, p)),
    ...(opts.metricNames && { metricNames: opts.metricNames }),
    // As the state saver opens it: relative to the working directory. A path that cannot be looked at (a parent
    // that is a file, no permission) is left to the saver, which counts its failed saves.
    existsAsNonRegularFile: (p) => {
      try {
        const stat = statSync(resolve(opts.cwd ?? process.cwd(), p), { throwIfNoEntry: false });
        return stat !== undefined && !stat.isFile();
      } catch {
        return false;
      }
    },
  });
  const { overlay, merged } = layered(opts, read.raw, schemaLeaves(schema), opts.credentialsFromEnv ?? true);
  const result = schema.safeParse(merged, { error: configErrorMap });
  const problems = [...overlay.problems];
  if (!result.success) {
    // "no account" adds nothing when the environment's account variables already said why there is none.
    const redundant = overlay.accountFromEnvFailed ? `accounts: ${ACCOUNTS_REQUIRED}` : undefined;
    problems.push(...formatIssues(result.error.issues, renamer(sourcesOf(opts, overlay))).filter((p) => p !== redundant));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  // Which OTLP keys the config set: the schema's defaults cannot tell an omitted key from one set to its default.
  const rawOtlp = merged['otlp'];
  const setKeys = isPlainObject(rawOtlp) ? Object.keys(rawOtlp) : [];
  return deepFreeze({ ...result.data, otlp: { ...result.data.otlp, setKeys } });
}

// The layers of every load, in order: the caller's defaults, the settings as written, the environment, the flags.
function layered(opts: LoadConfigOptions, written: Record<string, unknown>, leaves: ReturnType<typeof schemaLeaves>, credentials: boolean): { overlay: EnvOverlay; merged: Record<string, unknown> } {
  const raw = opts.defaults ? layer(opts.defaults, written) : written;
  const overlay = applyEnv(raw, opts.env ?? process.env, opts.cwd ?? process.cwd(), leaves, { credentials });
  return { overlay, merged: opts.overrides ? layer(overlay.raw, opts.overrides) : overlay.raw };
}

/**
 * Loads only the `web` section, from the same file, environment and overrides as {@link loadConfig}: what
 * `--healthcheck` needs to find the exporter. Nothing else is checked (no credentials, no secret files), so the check
 * works wherever the exporter's own credentials come from. Throws {@link ConfigError} for an unreadable file or a bad
 * `web` setting.
 */
export function loadWebSettings(opts: LoadConfigOptions = {}): Config['web'] {
  const { raw } = readRaw(opts, opts.cwd ?? process.cwd());
  // Leaves only: no secret file is read while walking the schema's shape. Problems of other settings (an unknown
  // variable, two sources of a secret) are not this caller's business.
  const { overlay, merged } = layered(opts, raw, schemaLeaves(createConfigSchema({ readSecretFile: () => '' })), false);
  const result = z.object({ web: webSchema.prefault({}) }).safeParse(merged, { error: configErrorMap });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, renamer(sourcesOf(opts, overlay))));
  return deepFreeze(result.data.web);
}
