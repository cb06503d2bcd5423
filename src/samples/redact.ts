/** What a redacted secret reads as: the same text as a printed Secret (config/secret.ts), which this stage may not import. */
export const REDACTION = '<secret>';

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
  return (text) => present.reduce((out, s) => out.split(s).join(REDACTION), text.replace(UNSAFE_CHARACTERS, ''));
}
