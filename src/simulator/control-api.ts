import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import type { z } from 'zod';
import {
  createCallBody,
  describeIssues,
  faultsBody,
  faultsToJson,
  samplesQuery,
  toCreateCallInput,
  toFaultPatch,
  toVariantPatch,
  variantBody,
} from './control-schemas.ts';
import type { SimCall } from './sim-call.ts';
import { callEdges, defaultEdge } from './sim-call.ts';
import type { Simulator } from './simulator.ts';
import { variantToJson } from './variant.ts';

/** A call as the control API shows it. */
export function controlCallJson(sim: Simulator, call: SimCall): Record<string, unknown> {
  return {
    sid: call.sid,
    account_sid: call.accountSid,
    type: call.type,
    status: sim.statusOf(call),
    degraded: call.degraded,
    created_time: new Date(call.createdMs).toISOString(),
    start_time: new Date(call.startMs).toISOString(),
    end_time: call.endMs === undefined ? null : new Date(call.endMs).toISOString(),
    edges: callEdges(call),
    default_edge: defaultEdge(call),
    visible_samples_per_stream: sim.visibleCount(call),
  };
}

class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new ControlError(400, describeIssues(result.error));
  return result.data;
}

function callOf(sim: Simulator, sid: string | string[] | undefined): SimCall {
  const call = typeof sid === 'string' ? sim.getCall(sid) : undefined;
  if (call === undefined) throw new ControlError(404, `call ${String(sid)} does not exist`);
  return call;
}

/** Runs a model operation, turning its plain errors (bad input) into 400s. */
function attempt<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof ControlError) throw error;
    throw new ControlError(400, error instanceof Error ? error.message : String(error));
  }
}

/**
 * The test and demo control API under `/_simulator/` (no Twilio auth, JSON in and out):
 * calls, faults, the runtime variant, token invalidation, and the ledger.
 */
export function controlApiRouter(sim: Simulator): express.Router {
  const router = express.Router({ caseSensitive: true });
  router.use(express.json({ limit: '1mb', strict: false }));

  router.post('/calls', (req, res) => {
    const input = toCreateCallInput(parse(createCallBody, req.body));
    const call = attempt(() => sim.createCall(input));
    res.status(201).json(controlCallJson(sim, call));
  });
  router.get('/calls', (_req, res) => {
    res.json({ calls: sim.listCalls().map((call) => controlCallJson(sim, call)) });
  });
  router.get('/calls/:sid', (req, res) => {
    res.json(controlCallJson(sim, callOf(sim, req.params.sid)));
  });
  router.post('/calls/:sid/end', (req, res) => {
    const call = callOf(sim, req.params.sid);
    res.json(controlCallJson(sim, sim.endCall(call.sid)));
  });
  router.get('/calls/:sid/samples', (req, res) => {
    const call = callOf(sim, req.params.sid);
    const query = parse(samplesQuery, req.query);
    const filter = {
      ...(query.Edge === undefined ? {} : { edge: query.Edge }),
      ...(query.Direction === undefined ? {} : { direction: query.Direction }),
    };
    res.json({ samples: sim.visibleSamples(call.sid, filter) });
  });

  router.get('/faults', (_req, res) => {
    res.json(faultsToJson(sim.faults.config()));
  });
  router.put('/faults', (req, res) => {
    const patch = toFaultPatch(parse(faultsBody, req.body));
    res.json(faultsToJson(attempt(() => sim.setFaults(patch))));
  });
  router.get('/variant', (_req, res) => {
    res.json(variantToJson(sim.variant()));
  });
  router.put('/variant', (req, res) => {
    const patch = toVariantPatch(parse(variantBody, req.body));
    res.json(variantToJson(attempt(() => sim.setVariant(patch))));
  });
  router.post('/tokens/invalidate', (_req, res) => {
    res.json({ epoch: sim.invalidateTokens() });
  });
  router.get('/ledger', (_req, res) => {
    res.json(sim.ledger());
  });
  router.post('/reset-stats', (_req, res) => {
    sim.resetStats();
    res.status(204).end();
  });

  router.use((req: Request, res: Response) => {
    res.status(404).json({ status: 404, message: `no control route ${req.method} ${req.originalUrl}` });
  });
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ControlError) {
      res.status(error.status).json({ status: error.status, message: error.message });
      return;
    }
    // express.json reports a body that is not JSON as an error with a 4xx status.
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    const message = error instanceof Error ? error.message : String(error);
    res.status(status).json({ status, message: status === 400 ? `body is not valid JSON: ${message}` : message });
  });
  return router;
}
