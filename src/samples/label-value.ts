/** Longest label value kept from Twilio's data (codec name, media region, call type), in UTF-16 code units. */
export const MAX_LABEL_VALUE_LENGTH = 64;

// Control characters (C0, DEL, C1) and lone surrogates: the latter have no UTF-8 form, so a writer would
// silently turn them into U+FFFD and two different values into one series.
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * `v` when it may be a label value taken from Twilio's data: a string of 1 to {@link MAX_LABEL_VALUE_LENGTH}
 * printable characters; else undefined (treated as not sent). A Prometheus with `label_value_length_limit`
 * fails a whole scrape on one longer value, so the bound is applied where the value enters, and the state file
 * applies it again on load.
 */
export function labelValue(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v.length <= MAX_LABEL_VALUE_LENGTH && !UNPRINTABLE.test(v) ? v : undefined;
}
