import { createHmac } from 'node:crypto';
import { hashString } from './hash.ts';
import type { Cursor, SortOrder } from './page-selection.ts';

/** What a page token carries: a position, not an offset, plus what is needed to refuse a stale one. */
export interface PageTokenPayload {
  /** The list the token belongs to: a short tag of e.g. `metrics:CA…` (see `inScope`). */
  readonly scope: string;
  /** Position in the list. */
  readonly cursor: Cursor;
  /** Sort order the token was issued under. */
  readonly order: SortOrder;
  /** Token generation; `invalidate` bumps the current one. */
  readonly epoch: number;
  /** Issue time, epoch ms (simulator clock). */
  readonly issuedMs: number;
}

const PREFIX = { after: 'PA', before: 'PB' } as const;

/** A short tag of a list scope, so tokens stay short while still naming their list. */
function scopeTag(scope: string): string {
  return hashString(scope).toString(36);
}

/** Encodes and decodes opaque, tamper-evident page tokens (`PA…`/`PB…`, as Twilio's 2010 tokens look). */
export class PageTokenCodec {
  readonly #secret: string;

  /** Uses `secret` to sign tokens, so a hand-edited token is refused. */
  constructor(secret: string) {
    this.#secret = secret;
  }

  /** The opaque token for a payload. */
  encode(payload: PageTokenPayload): string {
    const body = Buffer.from(
      JSON.stringify([scopeTag(payload.scope), payload.cursor.key, payload.order, payload.epoch, payload.issuedMs]),
    ).toString('base64url');
    return `${PREFIX[payload.cursor.kind]}${body}.${this.#sign(payload.cursor.kind, body)}`;
  }

  /** The payload of a token, or undefined when it is not one this codec issued. */
  decode(token: string): PageTokenPayload | undefined {
    const kind = token.startsWith(PREFIX.after) ? 'after' : token.startsWith(PREFIX.before) ? 'before' : undefined;
    if (kind === undefined) return undefined;
    const [body, signature, ...rest] = token.slice(2).split('.');
    if (body === undefined || signature !== this.#sign(kind, body) || rest.length > 0) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 5) return undefined;
    const [scope, key, order, epoch, issuedMs] = parsed as unknown[];
    if (
      typeof scope !== 'string' ||
      !Number.isSafeInteger(key) ||
      (order !== 'asc' && order !== 'desc') ||
      !Number.isSafeInteger(epoch) ||
      typeof issuedMs !== 'number'
    ) {
      return undefined;
    }
    return { scope, cursor: { kind, key: key as number }, order, epoch: epoch as number, issuedMs };
  }

  /** Whether a decoded token belongs to the list `scope`. */
  static inScope(payload: PageTokenPayload, scope: string): boolean {
    return payload.scope === scopeTag(scope);
  }

  #sign(kind: string, body: string): string {
    return createHmac('sha256', this.#secret).update(`${kind}.${body}`).digest('base64url').slice(0, 12);
  }
}
