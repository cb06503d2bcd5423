import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogFormat, LogLevel } from './config/types.ts';

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
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
