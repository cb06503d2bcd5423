import { closeSync, openSync, readSync } from 'node:fs';

/** Largest `*_file` secret read, in bytes (64 KiB): far above any token, far below harm. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** Largest config file read, in bytes (1 MiB). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Thrown when a file holds more than the cap; `code` is stable for callers to branch on. */
export class FileTooLargeError extends Error {
  /** Stable code to branch on (never on the message). */
  readonly code = 'ERR_FILE_TOO_LARGE';
  /** The cap that was exceeded, in bytes. */
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super(`larger than ${formatBytes(maxBytes)}`);
    this.name = 'FileTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** `64 KiB`, `1 MiB`: how the caps read in error messages. */
export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/**
 * Reads a file as UTF-8, refusing it with {@link FileTooLargeError} past `maxBytes`. It reads up to one byte
 * over the cap whatever the file is (`/dev/zero`, a device, a growing log), never trusting its stated size.
 */
export function readFileBounded(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new FileTooLargeError(maxBytes);
    return buf.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
