import { dirname, resolve } from 'node:path';

import { FileTooLargeError, MAX_CONFIG_FILE_BYTES, MAX_SECRET_FILE_BYTES, readFileBounded } from './bounded-read.ts';
import { applyEnv } from './env.ts';
import { ConfigError } from './errors.ts';
import { configErrorMap, formatIssues } from './issues.ts';
import { ACCOUNTS_REQUIRED, createConfigSchema } from './schema.ts';
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

// Swaps a key path for the environment variable that supplied it (or the list it is an item of).
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

/**
 * Loads the configuration: reads the YAML file if given, lays the environment over it, and validates the result
 * against the one schema into a deeply frozen {@link Config}. Relative `*_file` paths in the file start from the
 * file's directory. Throws {@link ConfigError} listing every problem found; no message contains a secret.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  let raw: Record<string, unknown> = {};
  let baseDir = cwd;
  if (opts.file !== undefined) {
    const path = resolve(cwd, opts.file);
    baseDir = dirname(path);
    let text: string;
    try {
      text = readFileBounded(path, MAX_CONFIG_FILE_BYTES);
    } catch (err) {
      if (err instanceof FileTooLargeError) throw new ConfigError([`${opts.file}: ${err.message}`]);
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([`${opts.file}: cannot read (${code})`]);
    }
    raw = parseConfigYaml(text);
  }
  const schema = createConfigSchema({ readSecretFile: (p) => readSecretFile(resolve(baseDir, p)) });
  const overlay = applyEnv(raw, env, cwd, schemaLeaves(schema));
  const result = schema.safeParse(overlay.raw, { error: configErrorMap });
  const problems = [...overlay.problems];
  if (!result.success) {
    // "no account" adds nothing when the environment's account variables already said why there is none.
    const redundant = overlay.accountFromEnvFailed ? `accounts: ${ACCOUNTS_REQUIRED}` : undefined;
    problems.push(...formatIssues(result.error.issues, renamer(overlay.sources)).filter((p) => p !== redundant));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}
