import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';

// Fixed wordings by body-parser error type: its own messages can quote the request body.
const MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'malformed request body',
  'entity.too.large': 'request body too large',
  'encoding.unsupported': 'unsupported content encoding',
  'charset.unsupported': 'unsupported charset',
  'request.aborted': 'request aborted',
};

/** The HTTP status an error carries (`status` or `statusCode`, 400-599), or 500. */
export function statusOf(err: unknown): number {
  if (typeof err !== 'object' || err === null) return 500;
  const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

function messageOf(err: unknown, status: number): string {
  const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && MESSAGES[type] !== undefined) return MESSAGES[type];
  if (err instanceof URIError) return 'malformed URL';
  return (STATUS_CODES[status] ?? 'error').toLowerCase();
}

/**
 * The last error handler of the app: a short plain-text body chosen from the status, never the error's message
 * or stack, whatever NODE_ENV says; `onServerError` sees the 5xx errors so they are logged, not shown.
 */
export function errorResponder(onServerError?: (err: unknown) => void): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const status = statusOf(err);
    if (status >= 500) onServerError?.(err);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).type('text/plain').send(`${messageOf(err, status)}\n`);
  };
}

/** Answers what no route matched: 404 in plain text. */
export const notFound: RequestHandler = (_req, res) => {
  res.status(404).type('text/plain').send('Not found\n');
};

/**
 * Mounted with `.all()` after a path's handlers: 405 with `Allow` for other methods (204 with `Allow` for
 * OPTIONS), so a client learns the path exists and what it takes; HEAD is allowed wherever GET is.
 */
export function methodNotAllowed(...methods: readonly string[]): RequestHandler {
  const allow = (methods.includes('GET') ? [...methods, 'HEAD'] : [...methods]).join(', ');
  return (req, res) => {
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    res.status(405).type('text/plain').send(`method ${req.method} not allowed; allowed: ${allow}\n`);
  };
}
