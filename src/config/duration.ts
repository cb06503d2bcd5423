// Prometheus model.Duration units, largest first; each may appear once, in this order.
const UNITS = [
  ['y', 365 * 24 * 60 * 60 * 1000],
  ['w', 7 * 24 * 60 * 60 * 1000],
  ['d', 24 * 60 * 60 * 1000],
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
] as const;

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** The rule a duration string must follow, as shown in error messages. */
export const DURATION_RULE = 'use e.g. 500ms, 10s, 1m30s';

/**
 * Parses a Prometheus-style duration (`500ms`, `10s`, `1m30s`, `2h`, `1d`; also `w` and `y`) into milliseconds;
 * throws an Error naming the rule for anything else, bare numbers included.
 */
export function parseDuration(s: string): number {
  const match = s === '' ? null : DURATION_RE.exec(s);
  if (match === null) {
    throw new Error(`invalid duration ${JSON.stringify(s)} (${DURATION_RULE})`);
  }
  let ms = 0;
  UNITS.forEach(([, unitMs], i) => {
    const digits = match[i + 1];
    if (digits !== undefined) ms += Number(digits) * unitMs;
  });
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`invalid duration ${JSON.stringify(s)} (too large)`);
  }
  return ms;
}

/** Formats milliseconds the way Prometheus prints a duration (`1m30s`, `0s`), the inverse of {@link parseDuration}. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot format ${ms} ms as a duration`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, unitMs] of UNITS) {
    const n = Math.floor(rest / unitMs);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * unitMs;
    }
  }
  return out;
}
