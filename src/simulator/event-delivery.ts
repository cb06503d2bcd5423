import { signDelivery } from './event-signing.ts';
import type { SimSink } from './event-sinks.ts';

/** A CloudEvent as Event Streams sends it. */
export interface CloudEventBody {
  readonly specversion: '1.0';
  readonly type: string;
  readonly source: string;
  readonly id: string;
  readonly dataschema: string;
  readonly datacontenttype: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
}

/** Knobs of the delivery engine (`PUT /_simulator/event-streams/settings`). */
export interface DeliveryKnobs {
  /** Events per POST at most [50]. */
  batchSize: number;
  /** Probability that an acknowledged event is delivered once more, later, in another batch [0]. */
  duplicateRate: number;
  /** Shuffle waiting events before each batch, so order is not kept [true]. */
  reorder: boolean;
  /** Each event waits a uniform random 0..maxDelayMs before it may be sent [0]. */
  maxDelayMs: number;
  /** The sink must answer within this, or the batch is retried [5000, Twilio's limit]. */
  timeoutMs: number;
  /** First retry back-off, doubling per attempt with full jitter [500]. */
  retryBaseMs: number;
  /** Events still failing after this long are dropped and counted [4 h]. */
  retryHorizonMs: number;
  /** POSTs in flight per sink at most [4]. */
  concurrency: number;
  /** An outage: nothing is sent while true; events wait and go out once it ends [false]. */
  paused: boolean;
}

/** Default knobs: Twilio's documented behaviour, with no added chaos. */
export const DEFAULT_KNOBS: DeliveryKnobs = {
  batchSize: 50,
  duplicateRate: 0,
  reorder: true,
  maxDelayMs: 0,
  timeoutMs: 5000,
  retryBaseMs: 500,
  retryHorizonMs: 4 * 3600_000,
  concurrency: 4,
  paused: false,
};

/** What was delivered (acknowledged with a 2xx): the ground truth for exactly-once tests. */
export interface DeliveryLedger {
  /** Distinct event ids acknowledged. */
  events: number;
  /** Distinct call-metrics samples acknowledged, per `call_sid/edge/direction`. */
  samples: Record<string, number>;
  /** POSTs made, by answer (`200`, `403`, `timeout`, `error`). */
  attempts: Record<string, number>;
  /** Events sent again after an acknowledgement (the duplicate knob). */
  duplicatesSent: number;
  /** Events re-queued after a failed or timed-out POST. */
  retried: number;
  /** Events dropped after the retry horizon. */
  dropped: number;
  /** Events waiting or in flight. */
  pending: number;
}

interface Pending {
  readonly event: CloudEventBody;
  readonly sink: SimSink;
  readonly token: string;
  readonly firstMs: number;
  dueMs: number;
  attempts: number;
  /** A deliberate repeat of an acknowledged event; it is not repeated again. */
  readonly repeat: boolean;
}

/** Queues events per sink and delivers them like Event Streams: signed, batched, at least once, unordered, retried. */
export class EventDelivery {
  knobs: DeliveryKnobs = { ...DEFAULT_KNOBS };
  readonly #queue: Pending[] = [];
  readonly #inFlight = new Map<string, number>();
  readonly #acked = new Set<string>();
  readonly #samples = new Map<string, Set<string>>();
  #ledger: Omit<DeliveryLedger, 'events' | 'samples' | 'pending'> = { attempts: {}, duplicatesSent: 0, retried: 0, dropped: 0 };
  #sending = 0;
  readonly #random: () => number;
  readonly #signal: AbortSignal;

  /** Creates an engine; `signal` aborts every POST in flight at shutdown. */
  constructor(random: () => number, signal: AbortSignal) {
    this.#random = random;
    this.#signal = signal;
  }

  /** Queues an event for a sink, signed with the account's Auth Token when sent. */
  enqueue(event: CloudEventBody, sink: SimSink, token: string): void {
    const now = Date.now();
    this.#queue.push({ event, sink, token, firstMs: now, dueMs: now + this.#random() * this.knobs.maxDelayMs, attempts: 0, repeat: false });
  }

  /** Sends whatever is due; called by the tick loop. */
  pump(): void {
    if (this.knobs.paused) return;
    const now = Date.now();
    const bySink = new Map<string, Pending[]>();
    const kept: Pending[] = [];
    for (const p of this.#queue) {
      if (p.dueMs > now) {
        kept.push(p);
        continue;
      }
      if (now - p.firstMs > this.knobs.retryHorizonMs) {
        this.#ledger.dropped++;
        continue;
      }
      let list = bySink.get(p.sink.sid);
      if (!list) bySink.set(p.sink.sid, (list = []));
      list.push(p);
    }
    for (const [sinkSid, ready] of bySink) {
      if (this.knobs.reorder) shuffle(ready, this.#random);
      while (ready.length > 0 && (this.#inFlight.get(sinkSid) ?? 0) < this.knobs.concurrency) {
        this.#post(ready.splice(0, Math.max(1, this.knobs.batchSize)));
      }
      kept.push(...ready);
    }
    this.#queue.length = 0;
    this.#queue.push(...kept);
  }

  #post(batch: Pending[]): void {
    const sink = batch[0]!.sink;
    const body = JSON.stringify(batch.map((p) => p.event));
    const signed = signDelivery(batch[0]!.token, sink.configuration.destination, body);
    this.#inFlight.set(sink.sid, (this.#inFlight.get(sink.sid) ?? 0) + 1);
    this.#sending += batch.length;
    const timeout = AbortSignal.timeout(this.knobs.timeoutMs);
    // Every outcome is handled in the chain below; nothing can reject out of it.
    void fetch(signed.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature, 'user-agent': 'Twilio-Event-Streams-Simulator' },
      body,
      signal: AbortSignal.any([timeout, this.#signal]),
    })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        return res.status >= 200 && res.status < 300 ? 'ok' : String(res.status);
      })
      .catch(() => (timeout.aborted ? 'timeout' : 'error'))
      .then((outcome) => {
        const key = outcome === 'ok' ? '2xx' : outcome;
        this.#ledger.attempts[key] = (this.#ledger.attempts[key] ?? 0) + 1;
        if (outcome === 'ok') this.#acknowledge(batch);
        else this.#retry(batch);
      })
      .finally(() => {
        this.#inFlight.set(sink.sid, (this.#inFlight.get(sink.sid) ?? 1) - 1);
        this.#sending -= batch.length;
      });
  }

  #acknowledge(batch: Pending[]): void {
    for (const p of batch) {
      this.#acked.add(p.event.id);
      const d = p.event.data;
      if (p.event.type.includes('.call-metrics.')) {
        const key = `${String(d['call_sid'])}/${String(d['edge'])}/${String(d['direction'])}`;
        let set = this.#samples.get(key);
        if (!set) this.#samples.set(key, (set = new Set()));
        set.add(String(d['timestamp']));
      }
      if (!p.repeat && this.#random() < this.knobs.duplicateRate) {
        this.#ledger.duplicatesSent++;
        const now = Date.now();
        this.#queue.push({ ...p, firstMs: now, dueMs: now + this.#random() * Math.max(this.knobs.maxDelayMs, 50), attempts: 0, repeat: true });
      }
    }
  }

  #retry(batch: Pending[]): void {
    const now = Date.now();
    for (const p of batch) {
      p.attempts++;
      p.dueMs = now + this.#random() * this.knobs.retryBaseMs * 2 ** Math.min(p.attempts - 1, 16);
      this.#ledger.retried++;
      this.#queue.push(p);
    }
  }

  /** What was delivered so far. */
  ledger(): DeliveryLedger {
    const samples: Record<string, number> = {};
    for (const [k, v] of this.#samples) samples[k] = v.size;
    return { events: this.#acked.size, samples, ...this.#ledger, attempts: { ...this.#ledger.attempts }, pending: this.#queue.length + this.#sending };
  }

  /** Forgets the ledger and every waiting event. */
  reset(): void {
    this.#queue.length = 0;
    this.#acked.clear();
    this.#samples.clear();
    this.#ledger = { attempts: {}, duplicatesSent: 0, retried: 0, dropped: 0 };
  }
}

function shuffle<T>(a: T[], random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
