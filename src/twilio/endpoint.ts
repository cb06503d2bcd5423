/** The Twilio resources the exporter reads, as a closed set usable as a metric label value. */
export const ENDPOINTS = ['metrics', 'calls', 'summary', 'settings', 'events'] as const;

/** One Twilio resource the exporter reads: Call Metrics, the 2010 Calls list, Call Summary, Voice Settings, or the Events API (Sinks and Subscriptions, read and written by `event-streams setup|status` only). */
export type Endpoint = (typeof ENDPOINTS)[number];
