import type { Edge } from '../../../src/samples/sample.ts';
import type { CallSummary, MetricsPage, MetricsQuery, TwilioClient } from '../../../src/twilio/client.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { FakeMetricsApi } from './fake-metrics-api.ts';
import type { FakeMetricsApiOptions } from './fake-metrics-api.ts';

/** A summary with only the call type set, as `parseSummary` returns it. */
export function summary(callType: string | null): CallSummary {
  return { callType, callState: 'answered', processingState: 'partial', raw: { call_type: callType } };
}

/** A metrics request as the poller made it. */
export interface MetricsRequest {
  callSid: string;
  edge: Edge | undefined;
  byUrl: boolean;
}

/**
 * A TwilioClient for the poller: one {@link FakeMetricsApi} per (call, edge) with data, an empty list for
 * an edge without data, scripted summaries, and scripted failures per (call, edge).
 */
export class FakeTwilioClient implements TwilioClient {
  readonly metricsRequests: MetricsRequest[] = [];
  readonly summaryRequests: string[] = [];
  /** When each Summary request came, by {@link now}. */
  readonly summaryRequestTimes: number[] = [];
  /** The clock the request times are read from [always 0]. */
  now: () => number = () => 0;
  readonly #apis = new Map<string, FakeMetricsApi>();
  readonly #summaries = new Map<string, CallSummary | Error>();
  readonly #metricsErrors = new Map<string, Error>();
  /** When set, a metrics request waits for this before answering (to hold polls in flight). */
  gate: ((signal: AbortSignal | undefined) => Promise<void>) | undefined;

  /** The list of (call, edge), created with the given options on first use. */
  api(callSid: string, edge: Edge, options: Partial<FakeMetricsApiOptions> = {}): FakeMetricsApi {
    const key = `${callSid}/${edge}`;
    let api = this.#apis.get(key);
    if (!api) {
      api = new FakeMetricsApi({ order: 'asc', pageSize: 50, callSid, edge, ...(edge === 'sdk_edge' ? {} : { directions: ['inbound', 'outbound'] }), ...options });
      this.#apis.set(key, api);
    }
    return api;
  }

  /** What the Summary of a call answers: a summary, or an error to throw. */
  setSummary(callSid: string, answer: CallSummary | Error): void {
    this.#summaries.set(callSid, answer);
  }

  /** Makes every metrics request of (call, edge) fail with `err`; `undefined` heals it. */
  failMetrics(callSid: string, edge: Edge, err: Error | undefined): void {
    if (err) this.#metricsErrors.set(`${callSid}/${edge}`, err);
    else this.#metricsErrors.delete(`${callSid}/${edge}`);
  }

  /** Edges asked for, per call, in order of request (first pages only). */
  edgesQueried(callSid: string): (Edge | undefined)[] {
    return this.metricsRequests.filter((r) => r.callSid === callSid && !r.byUrl).map((r) => r.edge);
  }

  async fetchMetricsPage(req: MetricsQuery | { url: string }, signal?: AbortSignal): Promise<MetricsPage> {
    let callSid: string;
    let edge: Edge | undefined;
    if ('url' in req) {
      const url = new URL(req.url);
      callSid = /\/v1\/Voice\/([^/]+)\/Metrics$/.exec(url.pathname)![1]!;
      edge = (url.searchParams.get('Edge') ?? undefined) as Edge | undefined;
    } else {
      callSid = req.callSid;
      edge = req.edge;
    }
    this.metricsRequests.push({ callSid, edge, byUrl: 'url' in req });
    if (this.gate) await this.gate(signal);
    const err = this.#metricsErrors.get(`${callSid}/${edge}`);
    if (err) throw err;
    const api = edge === undefined ? undefined : this.#apis.get(`${callSid}/${edge}`);
    if (!api) {
      const requestUrl = `https://insights.twilio.com/v1/Voice/${callSid}/Metrics?Edge=${edge}`;
      return { requestUrl, records: [], nextPageUrl: null, page: 0, pageSize: 50, bodyBytes: 120 };
    }
    return api.fetch(req);
  }

  fetchCallSummary(callSid: string): Promise<CallSummary> {
    this.summaryRequests.push(callSid);
    this.summaryRequestTimes.push(this.now());
    const answer = this.#summaries.get(callSid);
    if (answer === undefined) {
      return Promise.reject(new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 20404 }));
    }
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  listMetrics(): AsyncIterable<MetricsPage> {
    throw new Error('not used by the poller');
  }

  fetchCallsPage(): never {
    throw new Error('not used by the poller');
  }

  listCalls(): never {
    throw new Error('not used by the poller');
  }

  fetchSettings(): never {
    throw new Error('not used by the poller');
  }
}
