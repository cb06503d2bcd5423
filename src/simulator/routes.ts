/** The public API routes, as the ledger and fault targeting name them. */
export const ROUTE_NAMES = ['metrics', 'events', 'summary', 'settings', 'calls'] as const;
/** A public API route. */
export type RouteName = (typeof ROUTE_NAMES)[number];
