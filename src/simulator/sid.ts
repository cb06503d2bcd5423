import { hashIndex, hashString } from './hash.ts';

/** The spec pattern of a Call SID (`CallSid` path parameter of every per-call Insights route). */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;
/** The spec pattern of an Account SID. */
export const ACCOUNT_SID_PATTERN = /^AC[0-9a-fA-F]{32}$/;
/** The pattern of an API Key SID. */
export const API_KEY_SID_PATTERN = /^SK[0-9a-fA-F]{32}$/;

/** Whether a value is a well-formed Call SID. */
export function isCallSid(value: string): boolean {
  return CALL_SID_PATTERN.test(value);
}

/** A deterministic SID: the prefix plus 32 lowercase hex digits derived from a seed text and a counter. */
export function deterministicSid(prefix: string, seedText: string, counter: number): string {
  const key = hashString(seedText);
  let hex = '';
  for (let part = 0; part < 4; part++) {
    hex += hashIndex(key, counter, part + 1).toString(16).padStart(8, '0');
  }
  return `${prefix}${hex}`;
}
