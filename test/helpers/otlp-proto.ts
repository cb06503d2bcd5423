import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/** Import root of the official .proto files that test/e2e/setup-otel-proto.sh unpacks. */
export const OTEL_PROTO_ROOT = fileURLToPath(new URL('../../.cache/otel-proto/usr/include', import.meta.url));

const SERVICE_PROTO = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';
const REQUEST_TYPE = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest';

/** An OTLP `AnyValue` as protobufjs renders it (only the fields the exporter sends). */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
}

/** An OTLP `KeyValue`. */
export interface KeyValue {
  key: string;
  value?: AnyValue;
}

/** A number data point (gauge or sum). */
export interface NumberDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string;
}

/** A histogram data point. */
export interface HistogramDataPoint {
  attributes?: KeyValue[];
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}

/** One OTLP metric: exactly one of gauge, sum or histogram is set. */
export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: NumberDataPoint[] };
  sum?: { dataPoints?: NumberDataPoint[]; aggregationTemporality?: string; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramDataPoint[]; aggregationTemporality?: string };
}

/** The decoded `ExportMetricsServiceRequest` (int64 as strings, enums by name). */
export interface ExportMetricsServiceRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{ scope?: { name?: string; version?: string }; metrics?: OtlpMetric[] }>;
  }>;
}

let requestType: protobuf.Type | undefined;

/** Loads `ExportMetricsServiceRequest` from the official .proto files (once). */
export async function loadExportRequestType(): Promise<protobuf.Type> {
  if (requestType) return requestType;
  if (!existsSync(join(OTEL_PROTO_ROOT, SERVICE_PROTO))) {
    throw new Error(`${OTEL_PROTO_ROOT} has no ${SERVICE_PROTO}: run bash test/e2e/setup-otel-proto.sh`);
  }
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(OTEL_PROTO_ROOT, target));
  await root.load(SERVICE_PROTO);
  requestType = root.lookupType(REQUEST_TYPE);
  return requestType;
}

/** Decodes a raw OTLP/HTTP protobuf body with the official schema and verifies it, into a plain object. */
export async function decodeExportRequest(body: Buffer): Promise<ExportMetricsServiceRequest> {
  const type = await loadExportRequestType();
  const message = type.decode(body);
  const error = type.verify(message);
  if (error) throw new Error(`invalid ExportMetricsServiceRequest: ${error}`);
  return type.toObject(message, { longs: String, enums: String, bytes: String });
}

/** The attributes of a KeyValue list as a plain record (string, bool, int and double values). */
export function attributesOf(kvs: readonly KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of kvs ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.stringValue ?? v.boolValue ?? v.doubleValue ?? (v.intValue !== undefined ? Number(v.intValue) : '');
  }
  return out;
}

/** Every metric of a request, by name. */
export function metricsOf(request: ExportMetricsServiceRequest): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) out.set(m.name, m);
  }
  return out;
}

/** One request the capture server received. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body, gunzipped when it came compressed. */
  readonly body: Buffer;
}

/** A loopback HTTP server that keeps every request and answers it with a chosen status, to check raw OTLP requests. */
export interface CaptureServer {
  /** The OTLP metrics URL to push to. */
  readonly url: string;
  readonly requests: CapturedRequest[];
  close(): Promise<void>;
}

/** Starts a capture server on 127.0.0.1 and a free port; `status` picks the answer to the n-th request (1-based) [200]. */
export async function startCaptureServer(status: (n: number) => number = () => 200): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      // An empty ExportMetricsServiceResponse is an empty protobuf message.
      res.writeHead(status(requests.length), { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}/v1/metrics`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
