// Benchmark 6: one OTLP export of 10,000 tracked client calls (3 streams each), through createExporter's OTLP
// push to a local receiver that discards the bodies: collection, protobuf serialization and the requests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { addCalls, templateSamples } from './lib/series.ts';
import { benchConfig, benchExporter } from './lib/exporter.ts';
import { cpuMs, log, median } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

const CALLS = 10_000;
const REPS = 7;

interface Sink {
  readonly url: string;
  requests: number;
  bytes: number;
  close(): Promise<void>;
}

// A receiver that reads and drops each request, answering an empty (successful) ExportMetricsServiceResponse.
async function startSink(): Promise<Sink> {
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      sink.bytes += chunk.length;
    });
    req.on('end', () => {
      sink.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sink: Sink = {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests: 0,
    bytes: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sink;
}

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'otlp';
  const template = await templateSamples();
  const sink = await startSink();
  const config = benchConfig('http://127.0.0.1:9', {
    max_calls: CALLS,
    otlp: { endpoint: sink.url, export_interval: '1h', export_timeout: '60s' },
  });
  const exporter = benchExporter(config);
  addCalls(exporter, 0, CALLS, template);
  const otel = exporter.otel;
  if (!otel) throw new Error('OTLP export is off');
  const cpu: number[] = [];
  const wall: number[] = [];
  const pauses: number[] = [];
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // The first export warms up the code paths; it is not counted.
  for (let r = -1; r < REPS; r++) {
    const requests = sink.requests;
    const bytes = sink.bytes;
    delay.reset();
    const c0 = cpuMs();
    const w0 = performance.now();
    await otel.forceFlush();
    const w = performance.now() - w0;
    const c = cpuMs() - c0;
    if (sink.requests === requests) throw new Error('the export sent no request');
    if (r < 0) {
      log(`otlp: ${CALLS} calls: ${sink.requests - requests} requests, ${((sink.bytes - bytes) / 1e6).toFixed(1)} MB per export`);
      continue;
    }
    cpu.push(c);
    wall.push(w);
    pauses.push(delay.max / 1e6);
  }
  delay.disable();
  log(`otlp: wall-clock median ${median(wall).toFixed(1)} ms per export; longest event-loop pause median ${median(pauses).toFixed(1)} ms`);
  await exporter.stop();
  await sink.close();
  const n = CALLS.toLocaleString('en-US');
  return [
    { bench, name: `CPU ms per OTLP export, ${n} calls (collect, encode, send)`, exporter: median(cpu), unit: 'ms', goal: 'none (reported; compared with the figure before issue 12)' },
    { bench, name: `longest event-loop pause during an OTLP export, ${n} calls`, exporter: median(pauses), unit: 'ms', goal: 'none (reported)' },
  ];
}
