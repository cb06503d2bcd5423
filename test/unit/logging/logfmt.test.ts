import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';

// Probe N F4: logfmt quoted a value only for whitespace, `"` or `=`, so ESC, BEL and other controls from upstream text
// (a Summary's call_state, a page URL) reached the terminal raw: `^[[2K^[[1G^[[31mFAKE-ERROR` cleared a line and
// printed a forged red message. JSON lines escape them already (pino).
function logfmtLines(write: (log: ReturnType<typeof createLogger>) => void): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done): void {
      text += chunk.toString('utf8');
      done();
    },
  });
  const log = createLogger('info', 'logfmt', out);
  write(log);
  return new Promise((resolve) => setImmediate(() => resolve(text)));
}

describe('logfmt lines', () => {
  it('escape control, format and bidi characters in values, so upstream text can neither move a terminal nor forge a line', async () => {
    const hostile = '\u{e0001}\u001b[2K\u001b[1G\u001b[31mFAKE-ERROR\u001b[0m\u0007 \u0085next\u202eevil\u200b\nlevel=error msg=forged';
    const text = await logfmtLines((log) => log.info({ call_state: hostile, plain: 'completed' }, 'ending it'));
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(text.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(text).toContain('call_state="\\udb40\\udc01\\u001b[2K\\u001b[1G\\u001b[31mFAKE-ERROR\\u001b[0m\\u0007 \\u0085next\\u202eevil\\u200b\\nlevel=error msg=forged"');
    expect(text).toContain('plain=completed');
  });
});
