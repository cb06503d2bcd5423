import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { controlApiRouter } from './control-api.ts';
import { createEventStreams } from './event-streams.ts';
import { publicApiRouter, unknownPath } from './public-api.ts';
import { sendJsonText } from './response-headers.ts';
import type { Simulator } from './simulator.ts';
import { ApiError } from './twilio-error.ts';

/** What the app needs besides the model. */
export interface SimulatorAppOptions {
  /** Absolute base URL for v1 paging links; absent: taken from each request's Host header. */
  readonly publicUrl?: string;
  /** Aborted when the server shuts down, to end held requests. */
  readonly shutdown: AbortSignal;
}

/** The simulator's express app (public Twilio API plus `/_simulator/` control API), not listening. */
export function createSimulatorApp(sim: Simulator, options: SimulatorAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('case sensitive routing', true);
  const publicUrl = options.publicUrl?.replace(/\/+$/, '');
  const baseUrlOf = (req: Request): string => publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const eventStreams = createEventStreams(sim, baseUrlOf, options.shutdown);
  app.use('/_simulator/event-streams', eventStreams.control);
  app.use('/_simulator', controlApiRouter(sim));
  app.use(eventStreams.api);
  app.use(publicApiRouter({ sim, baseUrlOf, shutdown: options.shutdown }));
  app.use(unknownPath);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Only reached for failures outside the routes' own handling, e.g. an unreadable form body.
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    const apiError = new ApiError(status, status === 400 ? 20001 : 20500, status === 400 ? 'Invalid request body' : 'Internal Server Error');
    sendJsonText(res, apiError.status, JSON.stringify(apiError.body()), performance.now());
  });
  return app;
}
