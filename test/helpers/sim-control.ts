// Thin HTTP client for the simulator's /_simulator control API, as tests and the demo use it.

/** A call as the control API describes it. */
export interface SimCall {
  readonly sid: string;
  readonly type: string;
  readonly [key: string]: unknown;
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Control API helpers bound to one simulator URL. */
export function simControl(simUrl: string) {
  const base = `${simUrl}/_simulator`;
  return {
    createCall: (body: Record<string, unknown>) => call<SimCall>('POST', `${base}/calls`, body),
    endCall: (sid: string) => call<SimCall>('POST', `${base}/calls/${sid}/end`),
    samples: (sid: string) => call<{ samples: Array<Record<string, unknown>> }>('GET', `${base}/calls/${sid}/samples`).then((r) => r.samples),
    setFaults: (body: Record<string, unknown>) => call<unknown>('PUT', `${base}/faults`, body),
    setVariant: (body: Record<string, unknown>) => call<unknown>('PUT', `${base}/variant`, body),
    invalidateTokens: () => call<unknown>('POST', `${base}/tokens/invalidate`),
    ledger: () =>
      call<{
        streams: Array<{ call_sid: string; edge: string; direction: string; served: number }>;
        requests: { total: number; by_route: Record<string, number> };
        peak_concurrency: Record<string, number>;
      }>('GET', `${base}/ledger`),
    resetStats: () => call<void>('POST', `${base}/reset-stats`),
  };
}
