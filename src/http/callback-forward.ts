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
  /** [FORWARD_TIMEOUT_MS] */
  readonly timeoutMs?: number;
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

  /** Posts the callback to the owner unchanged and says how it went; never throws. */
  async forward(ownerOrdinal: number, cb: ForwardedCallback): Promise<ForwardAnswer> {
    const template = this.#o.peerTemplate();
    const url = `${peerUrl(template, ownerOrdinal)}${cb.pathAndQuery}`;
    const timeoutMs = this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS;
    let answer: ForwardAnswer;
    let why: string;
    try {
      const res = await request(url, {
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
      // Only the status matters; the owner's body is short text, read and dropped without being kept.
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.#recovered(ownerOrdinal);
        return { ok: true };
      }
      why = `answered ${res.statusCode}`;
      answer = { ok: false, status: 502, text: `the shard owning this call (${ownerOrdinal}) answered ${res.statusCode}\n` };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'HeadersTimeoutError' || err.name === 'BodyTimeoutError');
      why = timedOut ? `no answer within ${timeoutMs} ms` : `unreachable: ${errorText(err)}`;
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
