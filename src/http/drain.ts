import type { Server } from 'node:http';

/**
 * How long a shutdown waits for requests in flight: longer than Twilio waits for an Event Streams sink (5 s), so a
 * delivery Twilio still waits for is answered, and short enough for Kubernetes' default 30 s grace period.
 */
export const DRAIN_MS = 10_000;

/** Counts a server's requests in flight, so a shutdown can let them finish before it takes the last state save. */
export interface RequestDrain {
  /** Requests received and not yet answered (or given up). */
  readonly inFlight: number;
  /**
   * Stops accepting connections, lets the requests in flight finish (closing each connection once idle), and after
   * `ms` cuts whatever is left unanswered: a request cut before its answer is one Twilio sends again. Resolves once
   * no request is in flight and no connection is open.
   */
  drain(ms?: number): Promise<void>;
  /** Cuts every connection now, requests in flight unanswered: a drain under way resolves. */
  cut(): void;
}

/** Starts counting the requests of `server` (before it listens). */
export function trackRequests(server: Server): RequestDrain {
  let inFlight = 0;
  let draining = false;
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (draining) setImmediate(closeWhenDone);
    });
  });
  // With no request in flight, what is left is kept-alive connections and ones that have not sent a whole request
  // yet: nothing answered is lost by closing them (a request never answered is one Twilio sends again).
  const closeWhenDone = (): void => {
    if (inFlight === 0) server.closeAllConnections();
    else server.closeIdleConnections();
  };
  return {
    get inFlight() {
      return inFlight;
    },
    drain(ms = DRAIN_MS) {
      draining = true;
      const closed = new Promise<void>((done) => server.close(() => done()));
      closeWhenDone();
      const cut = setTimeout(() => server.closeAllConnections(), ms);
      return closed.finally(() => clearTimeout(cut));
    },
    cut() {
      server.closeAllConnections();
    },
  };
}
