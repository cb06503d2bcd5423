import express from 'express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { EventDelivery } from './event-delivery.ts';
import { EventPublisher } from './event-publisher.ts';
import { SinkRegistry } from './event-sinks.ts';
import { eventsApiRouter } from './events-api.ts';
import type { Simulator } from './simulator.ts';

/** The simulated Event Streams: the public Events API and its `/_simulator/event-streams` controls. */
export interface SimEventStreams {
  /** `events.twilio.com/v1` routes. */
  readonly api: Router;
  /** Knobs and ledger, mounted at `/_simulator/event-streams`. */
  readonly control: Router;
  readonly delivery: EventDelivery;
  readonly sinks: SinkRegistry;
}

const KNOBS = z.strictObject({
  batchSize: z.number().int().min(1).max(10_000).optional(),
  duplicateRate: z.number().min(0).max(1).optional(),
  reorder: z.boolean().optional(),
  maxDelayMs: z.number().min(0).max(600_000).optional(),
  timeoutMs: z.number().min(1).max(60_000).optional(),
  retryBaseMs: z.number().min(1).max(3_600_000).optional(),
  retryHorizonMs: z.number().min(0).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  paused: z.boolean().optional(),
});

/** Builds the Event Streams part of the simulator; its publish and delivery loop stops when `shutdown` aborts. */
export function createEventStreams(sim: Simulator, baseUrlOf: (req: Request) => string, shutdown: AbortSignal): SimEventStreams {
  const sinks = new SinkRegistry(() => sim.now());
  const delivery = new EventDelivery(() => sim.faults.random(), shutdown);
  const tokenOf = (accountSid: string): string | undefined => sim.accounts.authToken(accountSid);
  const publisher = new EventPublisher(sim, sinks, delivery, tokenOf);
  const timer = setInterval(() => {
    publisher.tick();
    delivery.pump();
  }, 50);
  timer.unref();
  shutdown.addEventListener('abort', () => clearInterval(timer), { once: true });

  const control = express.Router();
  control.get('/settings', (_req, res) => {
    res.json(delivery.knobs);
  });
  control.put('/settings', express.json({ limit: '16kb' }), (req, res) => {
    const parsed = KNOBS.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return;
    }
    const patch = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    delivery.knobs = { ...delivery.knobs, ...patch };
    res.json(delivery.knobs);
  });
  control.get('/ledger', (_req, res) => {
    res.json(delivery.ledger());
  });
  control.get('/sinks', (_req, res) => {
    res.json([...sinks.sinks.values()].map((s) => ({ sid: s.sid, account_sid: s.accountSid, status: s.status, destination: s.configuration.destination, last_test_id: s.lastTestId ?? null })));
  });
  control.post('/reset', (_req, res) => {
    delivery.reset();
    res.status(204).end();
  });
  return { api: eventsApiRouter({ sim, sinks, delivery, baseUrlOf, tokenOf }), control, delivery, sinks };
}
