import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

let shared: readonly Metric[] | undefined;

/**
 * prom-client's default process and Node.js runtime metrics (CPU, memory, heap, handles, GC, and event-loop lag
 * with its percentiles: stalls are this exporter's documented risk), unprefixed as dashboards expect. They describe
 * the process, so one set is created per process (lazily, with its event-loop and GC observers) and every
 * exposition registers the same objects.
 */
export function registerProcessMetrics(): readonly Metric[] {
  if (!shared) {
    const holder = new Registry();
    collectDefaultMetrics({ register: holder, eventLoopMonitoringPrecision: 10 });
    shared = holder.getMetricsAsArray() as unknown as readonly Metric[];
  }
  return shared;
}
