import { isIP } from 'node:net';
import express from 'express';
import type { Express, Request, RequestHandler, Response, Router } from 'express';
import type { ExpositionFormat } from '../metrics/prometheus.ts';
import type { RenderedExposition } from '../metrics/rendered.ts';
import { errorResponder, methodNotAllowed, notFound } from './error-responses.ts';

/** What the readiness probe reports. */
export interface Readiness {
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly reason?: string;
}

/** Options of the HTTP app. */
export interface AppOptions {
  /** Renders `/metrics` from memory (a scrape never calls Twilio). */
  readonly render: (format: ExpositionFormat) => Promise<RenderedExposition>;
  /** Path of the exposition [/metrics]. */
  readonly telemetryPath: string;
  /** Readiness: ready once every account answered. */
  readonly readiness: () => Readiness;
  /** Exporter version for the landing page. */
  readonly version: string;
  /** Mounts further routers (admin API, webhooks) before the fallbacks. */
  readonly mount?: (app: Express) => void;
  /** Called when a route handler fails unexpectedly (the client gets a short 500, never the error). */
  readonly onError?: (err: unknown) => void;
  /** Runs before every route (basic auth from the web configuration). */
  readonly guard?: RequestHandler;
  /**
   * With a guard, offered each request ahead of it: routes with a credential of their own that answer only its
   * holders (the admin API and its bearer token); what they pass on meets the guard [none].
   */
  readonly ownCredentialRoutes?: readonly RequestHandler[];
  /** The status page (`/` and `/calls/{CallSid}`); without it `/` is a plain landing page. */
  readonly status?: Router;
  /** `POST /-/reload`: re-reads the configuration. */
  readonly reload?: () => { ok: boolean; message: string };
}

/** Picks OpenMetrics when the scraper asks for it (Prometheus does, with a q-value); text otherwise. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') continue;
    // Parameter names are case-insensitive (RFC 9110): Q=0 refuses the type as q=0 does.
    const q = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'text';
}

// Whether a browser may have been made to send this request by a page of another site. Tools send no Origin. A browser
// names the page's origin, which must be the exporter itself, reached by an address no DNS answer can point
// elsewhere: an IP literal or localhost. A page on a host name whose DNS answer is switched to the exporter (DNS
// rebinding) sends an Origin equal to its Host, so a same-origin request through a host name proves nothing.
function crossOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    // 'null' (a sandboxed page or a file) or anything unparseable: no site vouches for it.
    return true;
  }
  if (o.host !== host) return true;
  const name = o.hostname;
  return !(name === 'localhost' || isIP(name) !== 0 || (name.startsWith('[') && isIP(name.slice(1, -1)) === 6));
}

function landingPage(version: string, telemetryPath: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Twilio Insights Exporter</title></head>
<body>
<h1>Twilio Insights Exporter</h1>
<p>Version ${version}. Streams Twilio Voice Insights call-quality metrics to Prometheus and OpenTelemetry.</p>
<ul>
<li><a href="${telemetryPath}">Metrics</a></li>
<li><a href="/-/healthy">Health</a></li>
<li><a href="/-/ready">Readiness</a></li>
</ul>
</body></html>
`;
}

// The exposition is written this much at a time, the next slice once the socket drained: each completed write
// restarts the server's idle timeout, so a reader that keeps reading is never cut off. Written whole, a chunk of
// megabytes was one socket write, which (over TLS, or queued behind another) shows no progress until it completes.
const WRITE_SLICE_BYTES = 64 * 1024;

// Writes the chunks in slices, following backpressure; stops if the response is destroyed meanwhile.
function writeSliced(res: Response, chunks: readonly Uint8Array[]): void {
  let i = 0;
  let offset = 0;
  const next = (): void => {
    while (i < chunks.length) {
      if (res.destroyed) return;
      const chunk = chunks[i]!;
      const end = Math.min(offset + WRITE_SLICE_BYTES, chunk.length);
      const more = res.write(chunk.subarray(offset, end));
      if (end === chunk.length) {
        i++;
        offset = 0;
      } else {
        offset = end;
      }
      if (!more) {
        res.once('drain', next);
        return;
      }
    }
    res.end();
  };
  next();
}

/** Builds the express app without listening; tests mount it on port 0. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Should an error ever slip past errorResponder, express's own handler must not print a stack trace either.
  app.set('env', 'production');
  if (options.guard) {
    for (const routes of options.ownCredentialRoutes ?? []) app.use(routes);
    app.use(options.guard);
  }

  app.route(options.telemetryPath).get((req: Request, res: Response) => {
    const format = negotiateFormat(req.get('accept'));
    options.render(format).then(
      (out) => {
        // The chunks are the render's reusable buffers: written as they are, handed back once the response is done
        // (sent, or its connection closed, as the server's idle timeout does to a client that stopped reading).
        res.once('close', () => out.release());
        res.set('Content-Type', out.contentType).set('Cache-Control', 'no-store').set('Content-Length', String(out.length));
        writeSliced(res, out.chunks);
      },
      (err: unknown) => {
        options.onError?.(err);
        res.status(500).type('text/plain').send('error rendering metrics\n');
      },
    );
  }).all(methodNotAllowed('GET'));
  app.route('/-/healthy').get((_req, res) => {
    res.type('text/plain').send('Healthy\n');
  }).all(methodNotAllowed('GET'));
  app.route('/-/ready').get((_req, res) => {
    const r = options.readiness();
    if (r.ready) res.type('text/plain').send('Ready\n');
    else res.status(503).type('text/plain').send(`Not ready: ${r.reason ?? 'starting'}\n`);
  }).all(methodNotAllowed('GET'));
  app.route('/-/reload').post((req, res) => {
    if (!options.reload) {
      res.status(404).type('text/plain').send('reload not available\n');
      return;
    }
    // A page on another site can make a browser POST here (a form needs no preflight); browsers name that page's
    // origin, and the tools that reload an exporter (curl, a sidecar, kubectl exec) send no Origin at all.
    if (crossOrigin(req.get('origin'), req.get('host'))) {
      res.status(403).type('text/plain').send('reload refused: the request comes from another site (Origin)\n');
      return;
    }
    const r = options.reload();
    res.status(r.ok ? 200 : 500).type('text/plain').send(`${r.message}\n`);
  }).all(methodNotAllowed('POST'));
  if (options.status) app.use(options.status);
  else {
    app.route('/').get((_req, res) => {
      res.type('html').send(landingPage(options.version, options.telemetryPath));
    }).all(methodNotAllowed('GET'));
  }
  options.mount?.(app);
  app.use(notFound);
  app.use(errorResponder(options.onError));
  return app;
}
