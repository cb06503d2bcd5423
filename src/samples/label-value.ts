/** Longest label value kept from Twilio's data (codec name, media region, call type), in UTF-16 code units. */
export const MAX_LABEL_VALUE_LENGTH = 64;

/**
 * `v` when it may be a label value taken from Twilio's data: a string of 1 to {@link MAX_LABEL_VALUE_LENGTH}
 * printable characters; else undefined (treated as not sent). A Prometheus with `label_value_length_limit`
 * fails a whole scrape on one longer value, so the bound is applied where the value enters, and the state file
 * applies it again on load. Refused: control characters (C0, DEL, C1); lone surrogates, which have no UTF-8
 * form (a writer would turn them into U+FFFD, two values into one series); and invisible format characters
 * (Unicode Cf: bidi overrides, zero-width spaces and joiners, the BOM) and the line and paragraph separators
 * (U+2028, U+2029), default-ignorable characters (variation selectors, Hangul fillers), white space at either end,
 * and combining marks that start the value or stack four deep, with which a value can pass for another in a legend,
 * an alert or the status page (`pcmu` and `pcmu` + U+200B are two series that read the same). One pass
 * over the characters and no regular expression for plain ASCII: this runs twice per record, and a regular
 * expression doubled its cost; only a value with other characters is also matched against those classes.
 */
export function labelValue(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '' || v.length > MAX_LABEL_VALUE_LENGTH) return undefined;
  // `pcmu` and `pcmu ` are two series that read the same.
  if (v.charCodeAt(0) === 0x20 || v.charCodeAt(v.length - 1) === 0x20) return undefined;
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return undefined;
    if (c > 0x7f) ascii = false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate followed by a low one is one character; anything else is a lone surrogate.
      const next = v.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return undefined;
      i++;
    }
  }
  return ascii || !INVISIBLE.test(v) ? v : undefined;
}

// The runtime's own Unicode tables, so the sets follow the Unicode version Node ships: format characters, line and
// paragraph separators, and the default-ignorable ones (variation selectors, Hangul fillers, the combining grapheme
// joiner), which render as nothing or as blank; white space at either end; and combining marks that start the value
// or are stacked four deep (64 stacked accents read as a smudge), where real scripts stack at most three.
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|^\s|\s$|^\p{M}|\p{M}{4}/u;
