/** What every printed form of a {@link Secret} shows instead of its value. */
export const REDACTED = '<secret>';

/**
 * A credential that prints as `<secret>` everywhere (string conversion, JSON, `util.inspect`, logs);
 * only {@link Secret.reveal} gives the value, so a leak needs an explicit call at the place that uses it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Returns the secret value; call it only where the value is sent (an Authorization header). */
  reveal(): string {
    return this.#value;
  }

  /** Returns `<secret>`, so template strings and concatenation never show the value. */
  toString(): string {
    return REDACTED;
  }

  /** Returns `<secret>`, so `JSON.stringify` (and pino) never show the value. */
  toJSON(): string {
    return REDACTED;
  }

  /** Returns `<secret>` for `util.inspect` and `console.log`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }

  /** Returns `<secret>` for every implicit conversion. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

// Control and format characters (ESC, CR, LF, BEL, C1; bidi overrides, zero-width spaces): upstream text must not
// recolour or move a terminal, start a forged line in a text log, read as other text, or split a secret so that it
// slips past the replacement.
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Makes untrusted text (an upstream's error message) safe to log or show: control and format characters removed
 * first, so none can split a secret and slip past, then each of `secrets` replaced by `<secret>`.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const present = secrets.filter((s) => s !== '');
  return (text) => present.reduce((out, s) => out.split(s).join(REDACTED), text.replace(UNSAFE_CHARACTERS, ''));
}
