/** Longest label value kept from Twilio's data (codec name, media region, call type), in UTF-16 code units. */
export const MAX_LABEL_VALUE_LENGTH = 64;

/**
 * `v` when it may be a label value taken from Twilio's data: a string of 1 to {@link MAX_LABEL_VALUE_LENGTH}
 * printable characters; else undefined (treated as not sent). A Prometheus with `label_value_length_limit`
 * fails a whole scrape on one longer value, so the bound is applied where the value enters, and the state file
 * applies it again on load. Refused: control characters (C0, DEL, C1) and lone surrogates, which have no UTF-8
 * form (a writer would turn them into U+FFFD, two values into one series). One pass over the characters and
 * no regular expression: this runs twice per record, and a regular expression doubled its cost.
 */
export function labelValue(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '' || v.length > MAX_LABEL_VALUE_LENGTH) return undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return undefined;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate followed by a low one is one character; anything else is a lone surrogate.
      const next = v.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return undefined;
      i++;
    }
  }
  return v;
}
