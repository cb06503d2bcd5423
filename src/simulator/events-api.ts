import express from 'express';
import type { Request, Response, Router } from 'express';
import type { EventDelivery } from './event-delivery.ts';
import type { SimSink, SimSubscribedEvent, SimSubscription, SinkRegistry } from './event-sinks.ts';
import { v1Meta } from './page-links.ts';
import { sendJsonText, setTwilioHeaders } from './response-headers.ts';
import type { Simulator } from './simulator.ts';
import { ApiError, notFoundError } from './twilio-error.ts';

/** The Events API host name, reported in `X-Api-Domain`. */
export const EVENTS_DOMAIN = 'events.twilio.com';

/** What the Events API routes need. */
export interface EventsApiContext {
  readonly sim: Simulator;
  readonly sinks: SinkRegistry;
  readonly delivery: EventDelivery;
  readonly baseUrlOf: (req: Request) => string;
  readonly tokenOf: (accountSid: string) => string | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const badParam = (message: string): ApiError => new ApiError(400, 20001, message);

function sinkJson(base: string, s: SimSink): Record<string, unknown> {
  const url = `${base}/v1/Sinks/${s.sid}`;
  return {
    status: s.status,
    sink_configuration: s.configuration,
    description: s.description,
    sid: s.sid,
    date_created: iso(s.createdMs),
    sink_type: 'webhook',
    date_updated: iso(s.updatedMs),
    url,
    links: { sink_test: `${url}/Test`, sink_validate: `${url}/Validate` },
  };
}

function subscriptionJson(base: string, s: SimSubscription): Record<string, unknown> {
  const url = `${base}/v1/Subscriptions/${s.sid}`;
  return {
    account_sid: s.accountSid,
    date_created: iso(s.createdMs),
    date_updated: iso(s.updatedMs),
    sid: s.sid,
    sink_sid: s.sinkSid,
    description: s.description,
    url,
    links: { subscribed_events: `${url}/SubscribedEvents` },
  };
}

function subscribedEventJson(base: string, sub: SimSubscription, t: SimSubscribedEvent): Record<string, unknown> {
  return {
    account_sid: sub.accountSid,
    type: t.type,
    schema_version: t.schemaVersion,
    subscription_sid: sub.sid,
    url: `${base}/v1/Subscriptions/${sub.sid}/SubscribedEvents/${t.type}`,
  };
}

// Page-number paging (the token is the page index): enough for lists of a few sinks.
function page<T>(req: Request, path: string, key: string, items: readonly T[], filters: Array<[string, string]>, base: string): Record<string, unknown> {
  const q = req.query;
  const pageSize = Math.min(1000, Math.max(1, Number(q['PageSize'] ?? 50) || 50));
  const pageNo = Math.max(0, Number(q['PageToken'] ?? q['Page'] ?? 0) || 0);
  const slice = items.slice(pageNo * pageSize, (pageNo + 1) * pageSize);
  const hasNext = (pageNo + 1) * pageSize < items.length;
  const meta = v1Meta(base, key, {
    path,
    filters,
    pageSize,
    page: pageNo,
    token: pageNo === 0 ? undefined : String(pageNo),
    nextToken: hasNext ? String(pageNo + 1) : undefined,
    previousToken: pageNo > 0 ? String(pageNo - 1) : undefined,
  });
  return { [key]: slice, meta };
}

function parseTypes(values: string[]): SimSubscribedEvent[] {
  if (values.length === 0) throw badParam('Types is required');
  return values.map((v) => {
    let o: unknown;
    try {
      o = JSON.parse(v);
    } catch {
      throw badParam('each Types item must be JSON {"type": ..., "schema_version": n}');
    }
    const t = (o as { type?: unknown }).type;
    const version = (o as { schema_version?: unknown }).schema_version ?? 1;
    if (typeof t !== 'string' || t === '' || !Number.isInteger(version)) throw badParam('each Types item needs a type and an integer schema_version');
    return { type: t, schemaVersion: version as number };
  });
}

type Handler = (ctx: EventsApiContext, accountSid: string, req: Request, form: URLSearchParams) => [number, unknown];

const createSink: Handler = (ctx, accountSid, req, form) => {
  const description = form.get('Description');
  const type = form.get('SinkType');
  const config = form.get('SinkConfiguration');
  if (!description || !type || !config) throw badParam('Description, SinkConfiguration and SinkType are required');
  if (type !== 'webhook') throw badParam('the simulator supports SinkType webhook only');
  let c: { destination?: unknown; method?: unknown; batch_events?: unknown };
  try {
    c = JSON.parse(config) as typeof c;
  } catch {
    throw badParam('SinkConfiguration must be JSON');
  }
  if (typeof c.destination !== 'string' || !/^https?:\/\//.test(c.destination)) throw badParam('SinkConfiguration.destination must be an http(s) URL');
  const method = typeof c.method === 'string' ? c.method.toUpperCase() : 'POST';
  const sink = ctx.sinks.createSink(accountSid, description, { destination: c.destination, method, batch_events: c.batch_events !== false });
  return [201, sinkJson(ctx.baseUrlOf(req), sink)];
};

function findSink(ctx: EventsApiContext, accountSid: string, req: Request): SimSink {
  const s = ctx.sinks.sink(accountSid, String(req.params['sid']));
  if (!s) throw notFoundError(req.path);
  return s;
}

function findSub(ctx: EventsApiContext, accountSid: string, req: Request): SimSubscription {
  const s = ctx.sinks.subscription(accountSid, String(req.params['sid']));
  if (!s) throw notFoundError(req.path);
  return s;
}

const ROUTES: ReadonlyArray<[string, string, Handler]> = [
  ['POST', '/v1/Sinks', createSink],
  ['GET', '/v1/Sinks', (ctx, acc, req) => {
    const status = typeof req.query['Status'] === 'string' ? req.query['Status'] : undefined;
    const inUse = req.query['InUse'];
    const used = new Set([...ctx.sinks.subscriptions.values()].map((s) => s.sinkSid));
    const list = [...ctx.sinks.sinks.values()].filter(
      (s) => s.accountSid === acc && (status === undefined || s.status === status) && (inUse === undefined || used.has(s.sid) === (inUse === 'true')),
    );
    const base = ctx.baseUrlOf(req);
    return [200, page(req, '/v1/Sinks', 'sinks', list.map((s) => sinkJson(base, s)), [], base)];
  }],
  ['GET', '/v1/Sinks/:sid', (ctx, acc, req) => [200, sinkJson(ctx.baseUrlOf(req), findSink(ctx, acc, req))]],
  ['POST', '/v1/Sinks/:sid', (ctx, acc, req, form) => {
    const s = findSink(ctx, acc, req);
    const d = form.get('Description');
    if (!d) throw badParam('Description is required');
    s.description = d;
    ctx.sinks.touch(s);
    return [200, sinkJson(ctx.baseUrlOf(req), s)];
  }],
  ['DELETE', '/v1/Sinks/:sid', (ctx, acc, req) => {
    ctx.sinks.deleteSink(findSink(ctx, acc, req).sid);
    return [204, undefined];
  }],
  ['POST', '/v1/Sinks/:sid/Test', (ctx, acc, req) => {
    const s = findSink(ctx, acc, req);
    const testId = ctx.sinks.startTest(s);
    const token = ctx.tokenOf(acc);
    const time = new Date(ctx.sim.now()).toISOString();
    if (token !== undefined) {
      ctx.delivery.enqueue(
        { specversion: '1.0', type: 'com.twilio.eventstreams.test-event', source: `/v1/Sinks/${s.sid}/Test`, id: `EV${testId.replaceAll('-', '')}`, dataschema: 'https://events-schemas.twilio.com/EventStreams.TestSink/1', datacontenttype: 'application/json', time, data: { test_id: testId } },
        s,
        token,
      );
    }
    return [201, { result: 'submitted' }];
  }],
  ['POST', '/v1/Sinks/:sid/Validate', (ctx, acc, req, form) => {
    findSink(ctx, acc, req);
    // TestId is required by the spec, but any value is `valid`: validation is no longer needed, and the endpoint
    // "always returns a result property with a value of valid" (twilio.com/docs/events/event-streams/sink-resource/validate).
    if (!form.get('TestId')) throw badParam('TestId is required');
    return [201, { result: 'valid' }];
  }],
  ['POST', '/v1/Subscriptions', (ctx, acc, req, form) => {
    const description = form.get('Description');
    const sinkSid = form.get('SinkSid') ?? '';
    if (!description) throw badParam('Description is required');
    const sink = ctx.sinks.sink(acc, sinkSid);
    if (!sink || sink.status === 'failed') throw badParam('SinkSid must name a sink of this account that has not failed');
    const sub = ctx.sinks.createSubscription(acc, sinkSid, description, parseTypes(form.getAll('Types')));
    return [201, subscriptionJson(ctx.baseUrlOf(req), sub)];
  }],
  ['GET', '/v1/Subscriptions', (ctx, acc, req) => {
    const sinkSid = typeof req.query['SinkSid'] === 'string' ? req.query['SinkSid'] : undefined;
    const list = [...ctx.sinks.subscriptions.values()].filter((s) => s.accountSid === acc && (sinkSid === undefined || s.sinkSid === sinkSid));
    const base = ctx.baseUrlOf(req);
    return [200, page(req, '/v1/Subscriptions', 'subscriptions', list.map((s) => subscriptionJson(base, s)), sinkSid ? [['SinkSid', sinkSid]] : [], base)];
  }],
  ['GET', '/v1/Subscriptions/:sid', (ctx, acc, req) => [200, subscriptionJson(ctx.baseUrlOf(req), findSub(ctx, acc, req))]],
  ['POST', '/v1/Subscriptions/:sid', (ctx, acc, req, form) => {
    const s = findSub(ctx, acc, req);
    const d = form.get('Description');
    if (d) s.description = d;
    ctx.sinks.touch(s);
    return [200, subscriptionJson(ctx.baseUrlOf(req), s)];
  }],
  ['DELETE', '/v1/Subscriptions/:sid', (ctx, acc, req) => {
    ctx.sinks.subscriptions.delete(findSub(ctx, acc, req).sid);
    return [204, undefined];
  }],
  ['GET', '/v1/Subscriptions/:sid/SubscribedEvents', (ctx, acc, req) => {
    const s = findSub(ctx, acc, req);
    const base = ctx.baseUrlOf(req);
    const list = [...s.types.values()].map((t) => subscribedEventJson(base, s, t));
    return [200, page(req, `/v1/Subscriptions/${s.sid}/SubscribedEvents`, 'types', list, [], base)];
  }],
  ['POST', '/v1/Subscriptions/:sid/SubscribedEvents', (ctx, acc, req, form) => {
    const s = findSub(ctx, acc, req);
    const type = form.get('Type');
    if (!type) throw badParam('Type is required');
    const version = Number(form.get('SchemaVersion') ?? 1);
    if (!Number.isInteger(version)) throw badParam('SchemaVersion must be an integer');
    const t = { type, schemaVersion: version };
    s.types.set(type, t);
    ctx.sinks.touch(s);
    return [201, subscribedEventJson(ctx.baseUrlOf(req), s, t)];
  }],
  ['GET', '/v1/Subscriptions/:sid/SubscribedEvents/:type', (ctx, acc, req) => {
    const s = findSub(ctx, acc, req);
    const t = s.types.get(String(req.params['type']));
    if (!t) throw notFoundError(req.path);
    return [200, subscribedEventJson(ctx.baseUrlOf(req), s, t)];
  }],
  ['POST', '/v1/Subscriptions/:sid/SubscribedEvents/:type', (ctx, acc, req, form) => {
    const s = findSub(ctx, acc, req);
    const t = s.types.get(String(req.params['type']));
    if (!t) throw notFoundError(req.path);
    const version = Number(form.get('SchemaVersion') ?? t.schemaVersion);
    if (!Number.isInteger(version)) throw badParam('SchemaVersion must be an integer');
    t.schemaVersion = version;
    ctx.sinks.touch(s);
    return [200, subscribedEventJson(ctx.baseUrlOf(req), s, t)];
  }],
  ['DELETE', '/v1/Subscriptions/:sid/SubscribedEvents/:type', (ctx, acc, req) => {
    const s = findSub(ctx, acc, req);
    if (!s.types.delete(String(req.params['type']))) throw notFoundError(req.path);
    return [204, undefined];
  }],
];

/** The Events API (`events.twilio.com/v1`): Sinks, Subscriptions, SubscribedEvents, Test and Validate, as in `twilio_events_v1.json`. */
export function eventsApiRouter(ctx: EventsApiContext): Router {
  const router = express.Router({ caseSensitive: true });
  const form = express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb' });
  for (const [method, path, handler] of ROUTES) {
    const run = (req: Request, res: Response): void => {
      const started = performance.now();
      setTwilioHeaders(res, EVENTS_DOMAIN);
      try {
        const accountSid = ctx.sim.accounts.authenticate(req.headers.authorization);
        const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
        const [status, body] = handler(ctx, accountSid, req, params);
        if (body === undefined) res.status(status).end();
        else sendJsonText(res, status, JSON.stringify(body), started);
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError(500, 20500, 'Internal Server Error');
        for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
        sendJsonText(res, e.status, JSON.stringify(e.body()), started);
      }
    };
    router[method === 'GET' ? 'get' : method === 'POST' ? 'post' : 'delete'](path, form, run);
  }
  return router;
}
