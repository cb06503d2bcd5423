import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { ORDINAL_PLACEHOLDER } from '../config/schema.ts';

/**
 * Marks a status callback one replica forwarded to the call's owner: the owner never forwards it again, so a shard
 * count that differs between replicas ends in an error answer, not a loop. Its value is the sender's ordinal.
 */
export const FORWARDED_HEADER = 'x-twilio-insights-exporter-forwarded';

/** How long the owner has to answer a forwarded callback: well inside Twilio's 15 s webhook timeout. */
export const FORWARD_TIMEOUT_MS = 5000;

/**
 * How long a replica keeps trying an owner that refuses connections (a restarting pod, or one not yet in DNS) before
 * answering Twilio 502: Twilio does not retry a failed status callback. With the last backoff (at most 1 s) and the
 * last try's timeout, Twilio has its answer within 12 s, inside the 15 s it waits.
 */
export const FORWARD_RETRY_MS = 6000;
const MAX_BACKOFF_MS = 1000;

// The owner could not be connected to (refused, reset, not resolvable): nothing reached it, so trying again is safe.
class OwnerUnreachable extends Error {
  override readonly name = 'OwnerUnreachable';
}

/** A signed status callback as Twilio sent it, to be sent on unchanged. */
export interface ForwardedCallback {
  /** Path and query as received (`/webhooks/twilio/call-status?…`): part of what Twilio signed. */
  readonly pathAndQuery: string;
  /** The body's bytes as received (already bounded by the route's body limit). */
  readonly body: Buffer;
  readonly contentType: string;
  readonly signature: string;
  /** The request's `Authorization` (basic auth from the web config), passed on so the owner's guard admits it. */
  readonly authorization: string | undefined;
}

/** What forwarding came to: the owner accepted (2xx), or the answer to give Twilio instead. */
export type ForwardAnswer = { readonly ok: true } | { readonly ok: false; readonly status: 502 | 504; readonly text: string };

/** The owner's address: the template with the ordinal put in. */
export function peerUrl(template: string, ordinal: number): string {
  return template.replaceAll(ORDINAL_PLACEHOLDER, String(ordinal));
}

/** Options of {@link CallbackForwarder}. */
export interface CallbackForwarderOptions {
  /** This replica's ordinal, sent in {@link FORWARDED_HEADER}. */
  readonly ordinal: number;
  /** `webhooks.shard_peer_url` as running (it changes on reload); "" when unset. */
  readonly peerTemplate: () => string;
  readonly logger: Logger;
  /** Connection pool for the peers [a small keep-alive Agent of its own, closed by close()]. */
  readonly dispatcher?: Dispatcher;
  /** Longest wait for one answer [FORWARD_TIMEOUT_MS]. */
  readonly timeoutMs?: number;
  /** How long an unreachable owner is tried again, with backoff; 0 tries once [FORWARD_RETRY_MS]. */
  readonly retryForMs?: number;
}

/**
 * Sends status callbacks for calls this replica does not own to the owning replica, and logs each failing
 * stretch once: a peer that stops answering is one warning, and one line when it answers again.
 */
export class CallbackForwarder {
  readonly #o: CallbackForwarderOptions;
  readonly #ownAgent: Agent | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #failing = new Set<number>();
  #unconfiguredLogged = false;

  constructor(options: CallbackForwarderOptions) {
    this.#o = options;
    this.#ownAgent = options.dispatcher ? undefined : new Agent({ keepAliveTimeout: 30_000, connections: 16 });
    this.#dispatcher = options.dispatcher ?? this.#ownAgent!;
  }

  /** Whether a peer address is configured. */
  configured(): boolean {
    const on = this.#o.peerTemplate() !== '';
    if (on) this.#unconfiguredLogged = false;
    return on;
  }

  /** A callback for another shard's call arrived with no peer address to send it to: logged once per stretch. */
  unconfigured(ownerOrdinal: number): void {
    if (this.#unconfiguredLogged) return;
    this.#unconfiguredLogged = true;
    this.#o.logger.warn(
      { owner_shard: ownerOrdinal, shard: this.#o.ordinal },
      'status callback for a call another shard owns refused (503): set webhooks.shard_peer_url so callbacks reach their owner',
    );
  }

  /**
   * Posts the callback to the owner unchanged and says how it went; never throws. An owner that cannot be connected to
   * is tried again for `retryForMs` (a restart takes seconds); one that answered, or did not answer in time, is not.
   */
  async forward(ownerOrdinal: number, cb: ForwardedCallback): Promise<ForwardAnswer> {
    const template = this.#o.peerTemplate();
    const url = `${peerUrl(template, ownerOrdinal)}${cb.pathAndQuery}`;
    const timeoutMs = this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS;
    const retryUntil = Date.now() + (this.#o.retryForMs ?? FORWARD_RETRY_MS);
    const policy = retry(
      handleWhen((err) => err instanceof OwnerUnreachable && Date.now() < retryUntil),
      { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: MAX_BACKOFF_MS }) },
    );
    let answer: ForwardAnswer;
    let why: string;
    try {
      const status = await policy.execute(() => this.#post(url, cb, timeoutMs));
      if (status >= 200 && status < 300) {
        this.#recovered(ownerOrdinal);
        return { ok: true };
      }
      why = `answered ${status}`;
      answer = { ok: false, status: 502, text: `the shard owning this call (${ownerOrdinal}) answered ${status}\n` };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'HeadersTimeoutError' || err.name === 'BodyTimeoutError');
      why = timedOut ? `no answer within ${timeoutMs} ms` : `unreachable: ${errorText(err instanceof OwnerUnreachable ? err.cause : err)}`;
      answer = timedOut
        ? { ok: false, status: 504, text: `the shard owning this call (${ownerOrdinal}) did not answer in time\n` }
        : { ok: false, status: 502, text: `the shard owning this call (${ownerOrdinal}) could not be reached\n` };
    }
    if (!this.#failing.has(ownerOrdinal)) {
      this.#failing.add(ownerOrdinal);
      this.#o.logger.warn(
        { owner_shard: ownerOrdinal, url: peerUrl(template, ownerOrdinal), reason: why },
        'forwarding status callbacks to the owning shard failed; Twilio is answered an error until it works again',
      );
    }
    return answer;
  }

  // One try: the owner's status, a timeout error, or OwnerUnreachable when no connection carried the request.
  async #post(url: string, cb: ForwardedCallback, timeoutMs: number): Promise<number> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'POST',
        dispatcher: this.#dispatcher,
        headers: {
          'content-type': cb.contentType,
          'x-twilio-signature': cb.signature,
          [FORWARDED_HEADER]: String(this.#o.ordinal),
          ...(cb.authorization !== undefined && { authorization: cb.authorization }),
        },
        body: cb.body,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      if (isConnectFailure(err)) throw new OwnerUnreachable('owner unreachable', { cause: err });
      throw err;
    }
    // Only the status matters; the owner's body is short text, read and dropped without being kept.
    await res.body.dump();
    return res.statusCode;
  }

  #recovered(ownerOrdinal: number): void {
    if (this.#failing.delete(ownerOrdinal)) this.#o.logger.info({ owner_shard: ownerOrdinal }, 'forwarding status callbacks to the owning shard works again');
  }

  /** Closes the pool it made. */
  async close(): Promise<void> {
    await this.#ownAgent?.close();
  }
}

// An error's message and code, never its stack; undici puts the cause (ECONNREFUSED) one level down.
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 300);
}

// Failures before the owner could have seen the request: no connection, or none accepted. A reset after sending is
// not one of them (the owner may have applied the callback), nor is a timeout.
const CONNECT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function isConnectFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_CODES.has(code)) return true;
  }
  return false;
}
