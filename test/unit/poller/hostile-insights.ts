import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

/** What the fake does for one call's Metrics requests. */
export type Behaviour =
  /** Gateway records (carrier_edge, both directions, every 10 s), oldest first, paged by `PageSize`. */
  | 'good'
  /** Every page is full and points at a new page with a new PageToken, forever. */
  | 'endless'
  /** The first page is a body of `hugeBytes` bytes. */
  | 'huge'
  /** Good records plus one dated five years ahead. */
  | 'future'
  /** Good records plus records naming another call, another account and another edge. */
  | 'cross'
  /** Good records plus one whose `timestamp` is an array nested `nestedDepth` deep. */
  | 'nested'
  /** 200 with an HTML body, as a proxy error page. */
  | 'html'
  /** 200 with a gzip-encoded body the client never asked for. */
  | 'gzip'
  /** 200 whose body dribbles out and never ends. */
  | 'never_ending'
  /** The first page of good records points at a page on another origin. */
  | 'foreign_next'
  /** 404 on every edge (Twilio has no metrics for the call). */
  | 'not_found';

/** One call the fake serves. */
export interface FakeCall {
  readonly callSid: string;
  readonly accountSid: string;
  readonly behaviour: Behaviour;
  /** For `cross`: the tracked call its stray record names. */
  readonly target?: string;
}

/** Options of {@link hostileInsights}. */
export interface HostileOptions {
  readonly calls: readonly FakeCall[];
  /** Rounds (10 s apart) of history before the fake started [6]. */
  readonly historyRounds?: number;
  /** Size of a `huge` body [40 MiB]. */
  readonly hugeBytes?: number;
  /** Depth of a `nested` timestamp [200 000]. */
  readonly nestedDepth?: number;
  /** Base URL a `foreign_next` page points at (another origin) [none]. */
  readonly foreignBaseUrl?: string;
}

/** A hostile Voice Insights + 2010 Calls API over a real socket, with a ledger of what it served. */
export interface HostileInsights {
  readonly baseUrl: string;
  /** Metrics requests per call (`Summary` and `Settings` not included). */
  readonly metricsRequests: Map<string, number>;
  /** Requests to the 2010 Calls list. */
  callsListRequests: number;
  /** Calls the 2010 Calls list shows as in progress. */
  listed: string[];
  /** Stops making new rounds visible: the ledger is final from here on. */
  freeze(): void;
  /** Valid records of a call visible so far (good records only; strays and hostile records not included). */
  ledger(): { count: number; newestMs: number | undefined };
  /** Every request fails: `refuse` closes the listener (ECONNREFUSED), `hang` never answers. */
  outage(kind: 'refuse' | 'hang' | 'calls_500'): Promise<void>;
  /** Ends an outage: listens again on the same port and answers normally. */
  recover(): Promise<void>;
  close(): Promise<void>;
}

const ROUND_MS = 10_000;
const FUTURE_MS = 5 * 365 * 86_400_000;

/** Starts the fake on 127.0.0.1 port 0; call `close()` when done. */
export async function hostileInsights(options: HostileOptions): Promise<HostileInsights> {
  const calls = new Map(options.calls.map((c) => [c.callSid, c]));
  const t0 = Math.floor(Date.now() / ROUND_MS) * ROUND_MS - (options.historyRounds ?? 6) * ROUND_MS;
  let frozenAt: number | undefined;
  let mode: 'ok' | 'hang' | 'calls_500' = 'ok';
  const metricsRequests = new Map<string, number>();
  const sockets = new Set<Socket>();
  let hugeBody: Buffer | undefined;

  // Rounds visible now: round k has timestamp t0 + k × 10 s and is visible once that time has passed.
  const rounds = (): number => Math.floor(((frozenAt ?? Date.now()) - t0) / ROUND_MS) + 1;

  const fake: HostileInsights = {
    baseUrl: '',
    metricsRequests,
    callsListRequests: 0,
    listed: [],
    freeze: () => {
      frozenAt = Date.now();
    },
    ledger: () => {
      const n = rounds();
      return { count: 2 * n, newestMs: n > 0 ? t0 + (n - 1) * ROUND_MS : undefined };
    },
    outage: async (kind) => {
      if (kind === 'refuse') await stopListening();
      else mode = kind;
    },
    recover: async () => {
      mode = 'ok';
      if (!server.listening) await listen(port);
    },
    close: async () => {
      mode = 'ok';
      await stopListening();
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (mode === 'hang') return;
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname === '/v1/Voice/Settings') return json(res, 200, { advanced_features: true, voice_trace: false });
    const calls2010 = /^\/2010-04-01\/Accounts\/(AC\w{32})\/Calls\.json$/.exec(url.pathname);
    if (calls2010) {
      fake.callsListRequests++;
      if (mode === 'calls_500') return json(res, 503, { code: 20500, message: 'Service Unavailable', status: 503 });
      const listed = fake.listed.filter((sid) => calls.get(sid)?.accountSid === calls2010[1]);
      return json(res, 200, { calls: listed.map((sid) => callRecord(sid, calls2010[1]!)), next_page_uri: null, page: 0, page_size: 1000 });
    }
    const m = /^\/v1\/Voice\/(CA\w{32})\/(Metrics|Summary)$/.exec(url.pathname);
    const call = m ? calls.get(m[1]!) : undefined;
    if (!m || !call) return json(res, 404, { code: 20404, message: 'not found', status: 404 });
    if (m[2] === 'Metrics') metricsRequests.set(call.callSid, (metricsRequests.get(call.callSid) ?? 0) + 1);
    if (call.behaviour === 'not_found') return json(res, 404, { code: 20404, message: 'not found', status: 404 });
    if (m[2] === 'Summary') return json(res, 200, { call_sid: call.callSid, call_type: 'carrier', call_state: 'answered', processing_state: 'partial' });
    serveMetrics(call, url, res);
  };

  function serveMetrics(call: FakeCall, url: URL, res: ServerResponse): void {
    const pageSize = Number(url.searchParams.get('PageSize') ?? 50);
    const offset = Number(/^P(\d+)$/.exec(url.searchParams.get('PageToken') ?? '')?.[1] ?? 0);
    const page = Number(url.searchParams.get('Page') ?? 0);
    const edge = url.searchParams.get('Edge');
    const self = `${fake.baseUrl}/v1/Voice/${call.callSid}/Metrics?Edge=carrier_edge&PageSize=${pageSize}`;
    if (edge !== null && edge !== 'carrier_edge') return json(res, 200, body([], null, page, pageSize));
    switch (call.behaviour) {
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      case 'gzip': {
        const zipped = gzipSync(JSON.stringify(body(records(call, 0, pageSize), null, 0, pageSize)));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length });
        return void res.end(zipped);
      }
      case 'never_ending':
        return neverEnding(res);
      case 'huge':
        hugeBody ??= Buffer.from(JSON.stringify(body([], null, 0, pageSize, 'x'.repeat(options.hugeBytes ?? 40 * 1024 * 1024))));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': hugeBody.length });
        return void res.end(hugeBody);
      case 'endless': {
        // Full pages of old, valid, ever newer records, each pointing at a page nobody has seen.
        const recs = Array.from({ length: pageSize }, (_, i) => record(call, t0 - 365 * 86_400_000 + (offset + i) * ROUND_MS, 'inbound', offset + i));
        return json(res, 200, body(recs, `${self}&Page=${page + 1}&PageToken=P${offset + pageSize}`, page, pageSize));
      }
      default: {
        const all = records(call, 0, Number.POSITIVE_INFINITY);
        const slice = all.slice(offset, offset + pageSize);
        let next = offset + pageSize < all.length ? `${self}&Page=${page + 1}&PageToken=P${offset + pageSize}` : null;
        if (call.behaviour === 'foreign_next' && options.foreignBaseUrl !== undefined) {
          next = `${options.foreignBaseUrl}/v1/Voice/${call.callSid}/Metrics?PageSize=${pageSize}&Page=${page + 1}&PageToken=P${offset + pageSize}`;
        }
        const text = JSON.stringify(body(slice, next, page, pageSize));
        if (call.behaviour !== 'nested') return send(res, 200, text);
        const depth = options.nestedDepth ?? 200_000;
        return send(res, 200, text.replace('"__NESTED__"', '['.repeat(depth) + ']'.repeat(depth)));
      }
    }
  }

  // The call's good records in order, with its hostile extras placed after round 2.
  function records(call: FakeCall, from: number, count: number): unknown[] {
    const out: unknown[] = [];
    const n = rounds();
    for (let k = 0; k < n; k++) {
      const ts = t0 + k * ROUND_MS;
      out.push(record(call, ts, 'inbound', k), record(call, ts, 'outbound', k));
      if (k === 2) out.push(...extras(call, ts));
    }
    return out.slice(from, from + count);
  }

  function extras(call: FakeCall, ts: number): unknown[] {
    switch (call.behaviour) {
      case 'future':
        return [record(call, Date.now() + FUTURE_MS, 'inbound', 99)];
      case 'cross': {
        const other = 'AC' + 'f'.repeat(32);
        const stray = { ...(record(call, ts + 5000, 'inbound', 7777) as Record<string, unknown>) };
        const sip = { ...stray, edge: 'sip_edge', sip_edge: stray['carrier_edge'], carrier_edge: null };
        return [{ ...stray, call_sid: call.target ?? call.callSid }, { ...stray, account_sid: other }, sip];
      }
      case 'nested':
        return [{ ...(record(call, ts + 5000, 'inbound', 5) as Record<string, unknown>), timestamp: '__NESTED__' }];
      default:
        return [];
    }
  }

  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (p: number): Promise<void> => new Promise((resolve) => server.listen(p, '127.0.0.1', resolve));
  const stopListening = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  (fake as { baseUrl: string }).baseUrl = `http://127.0.0.1:${port}`;
  return fake;
}

/** A record of a good gateway stream, in Twilio's wire shape. */
export function record(call: FakeCall, ts: number, direction: 'inbound' | 'outbound', round: number): unknown {
  const packets = direction === 'inbound' ? 'packets_received' : 'packets_sent';
  return {
    timestamp: new Date(ts).toISOString(),
    call_sid: call.callSid,
    account_sid: call.accountSid,
    edge: 'carrier_edge',
    direction,
    carrier_edge: {
      cumulative: { [packets]: 500 * (round + 1), packets_lost: 0, jitter: { avg: 5, max: 12 } },
      codec: 0,
      codec_name: round === 7777 ? 'stolen' : 'pcmu',
      metadata: { region: 'us1' },
    },
    sip_edge: null,
    sdk_edge: null,
    client_edge: null,
  };
}

function callRecord(sid: string, accountSid: string): unknown {
  return { sid, account_sid: accountSid, status: 'in-progress', direction: 'inbound', from: '+15550000001', to: '+15550000002', start_time: null, parent_call_sid: null };
}

function body(records: unknown[], next: string | null, page: number, pageSize: number, padding?: string): unknown {
  return {
    metrics: records,
    meta: { page, page_size: pageSize, first_page_url: null, previous_page_url: null, next_page_url: next, key: 'metrics', url: null, ...(padding !== undefined && { padding }) },
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value));
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// A body that keeps coming a little at a time, so no idle timeout fires: only an overall deadline ends it.
function neverEnding(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"metrics":[');
  const timer = setInterval(() => res.write('{"a":1},'), 50);
  res.on('close', () => clearInterval(timer));
}
