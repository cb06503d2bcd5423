import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../../src/config/secret.ts';
import { REDACTION, redactor } from '../../../src/samples/redact.ts';

describe('redactor', () => {
  it('reads as a printed Secret does', () => {
    expect(REDACTION).toBe(REDACTED);
  });

  it('removes control and format characters before it replaces secrets, so none can split one', () => {
    const redact = redactor(['S3cr3tT0ken', '']);
    expect(redact('a S3cr3t\u200bT0ken b \u001b[31mred\u202e S3cr3tT0ken')).toBe('a <secret> b [31mred <secret>');
    expect(redact('nothing secret')).toBe('nothing secret');
  });
});
