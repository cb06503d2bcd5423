/** A configuration that cannot be used: a bad file, a bad key or value, or a bad environment variable. */
export class ConfigError extends Error {
  /** Stable code to branch on (never on the message). */
  readonly code = 'ERR_CONFIG_INVALID';
  /** Every problem found, each `<key.path>: <rule>` (or `<ENV_VAR>: <rule>`); never contains a secret. */
  readonly problems: string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}
