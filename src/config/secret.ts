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
