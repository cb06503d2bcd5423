import { randomBytes, randomUUID } from 'node:crypto';

/** Where a webhook sink delivers (`SinkConfiguration` of a webhook Sink). */
export interface WebhookSinkConfiguration {
  readonly destination: string;
  readonly method: string;
  readonly batch_events: boolean;
}

/** A Sink as the simulator keeps it. */
export interface SimSink {
  readonly sid: string;
  readonly accountSid: string;
  description: string;
  readonly configuration: WebhookSinkConfiguration;
  status: 'initialized' | 'validating' | 'active' | 'failed';
  readonly createdMs: number;
  updatedMs: number;
  /** The id of the last test event sent, which `Validate` must echo. */
  lastTestId: string | undefined;
}

/** A subscribed event type with its schema version. */
export interface SimSubscribedEvent {
  readonly type: string;
  schemaVersion: number;
}

/** A Subscription: which event types go to which sink. */
export interface SimSubscription {
  readonly sid: string;
  readonly accountSid: string;
  description: string;
  readonly sinkSid: string;
  readonly types: Map<string, SimSubscribedEvent>;
  readonly createdMs: number;
  updatedMs: number;
}

const sid = (prefix: string): string => `${prefix}${randomBytes(16).toString('hex')}`;

/** Sinks and Subscriptions of every account, in creation order. */
export class SinkRegistry {
  readonly sinks = new Map<string, SimSink>();
  readonly subscriptions = new Map<string, SimSubscription>();
  readonly #now: () => number;

  /** Creates an empty registry. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * Creates a webhook sink, `active` at once: "There is no longer a need for validating a Sink. The status of
   * Sinks is active by default" (twilio.com/docs/events/event-streams/sink-resource/validate).
   */
  createSink(accountSid: string, description: string, configuration: WebhookSinkConfiguration): SimSink {
    const now = this.#now();
    const sink: SimSink = { sid: sid('DG'), accountSid, description, configuration, status: 'active', createdMs: now, updatedMs: now, lastTestId: undefined };
    this.sinks.set(sink.sid, sink);
    return sink;
  }

  /** The account's sink, or undefined (another account's sink is not found either). */
  sink(accountSid: string, sinkSid: string): SimSink | undefined {
    const s = this.sinks.get(sinkSid);
    return s?.accountSid === accountSid ? s : undefined;
  }

  /** Deletes a sink and its subscriptions. */
  deleteSink(sinkSid: string): void {
    this.sinks.delete(sinkSid);
    for (const [k, sub] of this.subscriptions) if (sub.sinkSid === sinkSid) this.subscriptions.delete(k);
  }

  /** Starts a sink test: returns the test id the delivered test event carries (the sink stays as it is). */
  startTest(sink: SimSink): string {
    sink.lastTestId = randomUUID();
    return sink.lastTestId;
  }

  /** Creates a subscription. */
  createSubscription(accountSid: string, sinkSid: string, description: string, types: readonly SimSubscribedEvent[]): SimSubscription {
    const now = this.#now();
    const sub: SimSubscription = {
      sid: sid('DF'),
      accountSid,
      description,
      sinkSid,
      types: new Map(types.map((t) => [t.type, { ...t }])),
      createdMs: now,
      updatedMs: now,
    };
    this.subscriptions.set(sub.sid, sub);
    return sub;
  }

  /** The account's subscription, or undefined. */
  subscription(accountSid: string, subSid: string): SimSubscription | undefined {
    const s = this.subscriptions.get(subSid);
    return s?.accountSid === accountSid ? s : undefined;
  }

  /** Sinks subscribed to a type for an account, with the schema version each asked for. */
  sinksFor(accountSid: string, type: string): Array<{ sink: SimSink; schemaVersion: number }> {
    const out: Array<{ sink: SimSink; schemaVersion: number }> = [];
    for (const sub of this.subscriptions.values()) {
      if (sub.accountSid !== accountSid) continue;
      const t = sub.types.get(type);
      const sink = this.sinks.get(sub.sinkSid);
      if (t && sink && sink.status !== 'failed') out.push({ sink, schemaVersion: t.schemaVersion });
    }
    return out;
  }

  /** Marks a time of change. */
  touch(o: { updatedMs: number }): void {
    o.updatedMs = this.#now();
  }
}
