import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

let shared: readonly Metric[] | undefined;

/**
 * The names of the runtime families {@link registerProcessMetrics} exposes (on Linux; other platforms lack some
 * `process_*` ones), so that `metrics.include`/`exclude` may name them; a test checks the list against prom-client.
 */
export const PROCESS_METRIC_NAMES: readonly string[] = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

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
