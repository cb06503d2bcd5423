import type { RequestListener } from 'node:http';
import type { DirectRoute } from '../calls/source.ts';

/**
 * Offers each request to the direct routes first, in order, and gives `app` (express) the rest. A direct route
 * skips every app-wide handler, the basic-auth guard included: mount none when a guard is configured.
 */
export function withDirectRoutes(app: RequestListener, routes: readonly DirectRoute[]): RequestListener {
  if (routes.length === 0) return app;
  return (req, res) => {
    for (const route of routes) if (route(req, res)) return;
    app(req, res);
  };
}
