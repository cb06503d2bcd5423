/** Default TCP port of the exporter's HTTP server (`web.listen_address` defaults to `:9487`). */
export const DEFAULT_PORT = 9487;

/** Default values of the config file's optional settings, in file units (durations as strings). */
export const DEFAULTS = {
  insightsBaseUrl: 'https://insights.twilio.com',
  apiBaseUrl: 'https://api.twilio.com',
  eventsBaseUrl: 'https://events.twilio.com',
  maxConcurrentRequests: 10,
  pollInterval: '10s',
  requestTimeout: '10s',
  pageSize: 100,
  maxCalls: 10_000,
  callRetention: '5m',
  drainPeriod: '2m',
  backfill: false,
  perCallSeries: true,
  discoveryEnabled: false,
  discoveryInterval: '30s',
  webhooksEnabled: true,
  ingestMode: 'poll',
  hybridGap: '2m',
  pushSilenceTimeout: '10m',
  eventStreamsMaxBodyBytes: 16 * 1024 * 1024,
  otlpExportInterval: '15s',
  otlpExportTimeout: '10s',
  otlpServiceName: 'twilio-insights-exporter',
  listenAddress: `:${DEFAULT_PORT}`,
  telemetryPath: '/metrics',
  logLevel: 'info',
  logFormat: 'json',
} as const;
