import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogFormat, LogLevel } from './config/types.ts';

// Control and format characters (ESC, BEL, C1, bidi overrides, zero-width ones): written raw they would move or recolour
// a terminal, or make one value read as another. JSON.stringify escapes C0 controls only.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[^\s"=\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u.test(s)) return s;
  // Each UTF-16 unit of the character (two for one past U+FFFF), as JSON writes an escape.
  return JSON.stringify(s).replace(UNSAFE, (c) => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

// pino writes JSON lines; for logfmt each line is re-encoded as key=value pairs, level and msg first.
function logfmtStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const parts = [`time=${logfmtValue(time)}`, `level=${logfmtValue(level)}`, `msg=${logfmtValue(msg ?? '')}`];
        for (const [k, v] of Object.entries(rest)) parts.push(`${k}=${logfmtValue(v)}`);
        out.write(`${parts.join(' ')}\n`);
      }
      done();
    },
  });
}

/** Creates the process logger: JSON (or logfmt) lines on stderr, level names as text, ISO times. */
export function createLogger(level: LogLevel, format: LogFormat, out: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, format === 'logfmt' ? logfmtStream(out) : (out as Writable));
}
