import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

let shared: readonly Metric[] | undefined;

const LINT_FAILING = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

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
    // Gauges named like counters (`nodejs_active_handles_total`, …) fail `promtool check metrics`; the same counts
    // are in `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` by type.
    for (const name of LINT_FAILING) holder.removeSingleMetric(name);
    shared = holder.getMetricsAsArray() as unknown as readonly Metric[];
  }
  return shared;
}
