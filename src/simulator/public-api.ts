import type { Request, Response } from 'express';
import express from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiRequest, ApiResult } from './api-request.ts';
import { listCalls } from './calls-resource.ts';
import { listEvents } from './events-resource.ts';
import type { FaultDecision } from './faults.ts';
import { listMetrics } from './metrics-resource.ts';
import { corruptRecord } from './record-corruption.ts';
import { sendJsonText, setTwilioHeaders } from './response-headers.ts';
import type { RouteName } from './routes.ts';
import { fetchSettings, updateSettings } from './settings-resource.ts';
import type { Simulator } from './simulator.ts';
import { fetchSummary } from './summary-resource.ts';
import type { ConcurrencySlot } from './concurrency.ts';
import { isCallSid } from './sid.ts';
import { ApiError, methodNotAllowedError, notFoundError, tooManyRequestsError } from './twilio-error.ts';

/** The Insights host name, reported in `X-Api-Domain`. */
export const INSIGHTS_DOMAIN = 'insights.twilio.com';
/** The 2010 API host name, reported in `X-Api-Domain`. */
export const API_DOMAIN = 'api.twilio.com';

type Handler = (sim: Simulator, request: ApiRequest) => ApiResult;

interface PublicRoute {
  readonly name: RouteName;
  readonly path: string;
  readonly domain: string;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
}

const ROUTES: readonly PublicRoute[] = [
  { name: 'settings', path: '/v1/Voice/Settings', domain: INSIGHTS_DOMAIN, methods: { GET: fetchSettings, POST: updateSettings } },
  { name: 'metrics', path: '/v1/Voice/:callSid/Metrics', domain: INSIGHTS_DOMAIN, methods: { GET: listMetrics } },
  { name: 'events', path: '/v1/Voice/:callSid/Events', domain: INSIGHTS_DOMAIN, methods: { GET: listEvents } },
  { name: 'summary', path: '/v1/Voice/:callSid/Summary', domain: INSIGHTS_DOMAIN, methods: { GET: fetchSummary } },
  { name: 'calls', path: '/2010-04-01/Accounts/:accountSid/Calls.json', domain: API_DOMAIN, methods: { GET: listCalls } },
];

/** Where the public API lives, and how to stop anything it is holding. */
export interface PublicApiContext {
  /** The model. */
  readonly sim: Simulator;
  /** Absolute base URL for v1 paging links of a request. */
  readonly baseUrlOf: (req: Request) => string;
  /** Aborted when the server closes, so held (timed-out) requests end at once. */
  readonly shutdown: AbortSignal;
}

type Outcome = number | 'reset' | 'dropped';

function destroy<T extends 'reset' | 'dropped'>(req: Request, outcome: T): T {
  req.socket.destroy();
  return outcome;
}

/** Applies the body faults of a 200 Metrics answer and returns the text and the samples still clean. */
function faultedBody(sim: Simulator, result: ApiResult, fault: FaultDecision): { text: string; clean: ApiResult['metrics'] } {
  let body = result.body;
  let clean = result.metrics;
  if (result.metrics !== undefined && fault.corruptRecordRate > 0) {
    const kinds = sim.faults.config().corruptKinds;
    const keep: boolean[] = [];
    const records = result.metrics.records.map((record) => {
      const kind = kinds[Math.floor(sim.faults.random() * kinds.length)];
      if (kind === undefined || sim.faults.random() >= fault.corruptRecordRate) {
        keep.push(true);
        return record;
      }
      keep.push(false);
      return corruptRecord(record, kind, () => sim.faults.random());
    });
    const corrupted = keep.filter((k) => !k).length;
    sim.ledgerStore.recordCorrupted(corrupted);
    body = { ...(result.body as object), metrics: records };
    clean = {
      records: result.metrics.records.filter((_, i) => keep[i]),
      served: result.metrics.served.filter((_, i) => keep[i]),
    };
  }
  let text = JSON.stringify(body);
  if (fault.truncate) {
    // Any strict prefix of a JSON object is invalid JSON.
    text = text.slice(0, 1 + Math.floor(sim.faults.random() * (text.length - 1)));
    clean = undefined;
  }
  return { text, clean };
}

async function serve(context: PublicApiContext, route: PublicRoute, req: Request, res: Response): Promise<Outcome> {
  const { sim } = context;
  const startedMs = performance.now();
  const callSid = typeof req.params.callSid === 'string' ? req.params.callSid : undefined;
  let slot: ConcurrencySlot | undefined;
  try {
    const accountSid = sim.accounts.authenticate(req.headers.authorization);
    const handler = route.methods[req.method];
    if (handler === undefined) throw methodNotAllowedError(req.method, req.path);
    slot = sim.concurrency.acquire(accountSid);
    // A request stops counting when its client hangs up, even while a fault still holds it: the
    // peak then measures what the client had open, which is what a client-side limiter controls.
    res.once('close', slot.release);
    res.setHeader('Twilio-Concurrent-Requests', String(slot.inFlight));
    const variant = sim.variant();
    if (slot.inFlight > variant.concurrencyLimit) throw tooManyRequestsError(variant.retryAfterSeconds);
    const fault = sim.faults.decide(route.name, callSid);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs, undefined, { signal: context.shutdown });
    if (fault.holdMs > 0) {
      await sleep(fault.holdMs, undefined, { signal: context.shutdown });
      if (fault.holdAction === 'drop') return destroy(req, 'dropped');
    }
    if (fault.reset) return destroy(req, 'reset');
    if (fault.errorStatus === 429) throw tooManyRequestsError(fault.retryAfterSeconds);
    if (fault.errorStatus === 500) throw new ApiError(500, 20500, 'Internal Server Error');
    if (fault.errorStatus === 503) throw new ApiError(503, 20503, 'Service Unavailable');
    // The client may have given up while we were slow; there is nobody to answer then.
    if (req.socket.destroyed) return 'dropped';
    const result = handler(sim, {
      accountSid,
      path: req.path,
      params: req.params as Record<string, string | undefined>,
      query: new URL(req.originalUrl, 'http://simulator.invalid').searchParams,
      form: (req.body ?? {}) as Record<string, string | undefined>,
      baseUrl: context.baseUrlOf(req),
    });
    const { text, clean } = faultedBody(sim, result, fault);
    if (clean !== undefined && clean.served.length > 0) {
      const served = clean.served;
      res.once('finish', () => sim.ledgerStore.recordServed(served));
    }
    sendJsonText(res, result.status, text, startedMs);
    return result.status;
  } catch (error) {
    if (context.shutdown.aborted) return destroy(req, 'dropped');
    const apiError = error instanceof ApiError ? error : new ApiError(500, 20500, 'Internal Server Error');
    if (!(error instanceof ApiError)) console.error('simulator: unexpected error', error);
    for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
    sendJsonText(res, apiError.status, JSON.stringify(apiError.body()), startedMs);
    return apiError.status;
  } finally {
    slot?.release();
  }
}

/** The public Twilio API (Insights v1 and 2010 Calls.json) as an express router. */
export function publicApiRouter(context: PublicApiContext): express.Router {
  const router = express.Router({ caseSensitive: true });
  for (const route of ROUTES) {
    const form = express.urlencoded({ extended: false, limit: '16kb' });
    router.all(route.path, form, async (req, res) => {
      setTwilioHeaders(res, route.domain);
      const outcome = await serve(context, route, req, res);
      const sid = req.params.callSid;
      // Only well-formed SIDs are counted per call, so junk paths cannot grow the ledger.
      const callSid = typeof sid === 'string' && isCallSid(sid) ? sid : undefined;
      context.sim.ledgerStore.recordRequest(route.name, callSid, outcome);
    });
  }
  return router;
}

/** The Twilio 404 for any path the API does not have. */
export function unknownPath(req: Request, res: Response): void {
  setTwilioHeaders(res, req.path.startsWith('/2010-04-01') ? API_DOMAIN : INSIGHTS_DOMAIN);
  sendJsonText(res, 404, JSON.stringify(notFoundError(req.path).body()), performance.now());
}
