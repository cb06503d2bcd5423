/** The Twilio resources the exporter reads, as a closed set usable as a metric label value. */
export const ENDPOINTS = ['metrics', 'calls', 'summary', 'settings'] as const;

/** One Twilio resource the exporter reads: Call Metrics, the 2010 Calls list, Call Summary or Voice Settings. */
export type Endpoint = (typeof ENDPOINTS)[number];
