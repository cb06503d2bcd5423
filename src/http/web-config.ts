import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parse } from 'yaml';
import { z } from 'zod';
import { MAX_CONFIG_FILE_BYTES, readFileBounded } from '../config/bounded-read.ts';
import { ConfigError } from '../config/errors.ts';
import { configErrorMap, formatIssues } from '../config/issues.ts';

const BCRYPT = /^\$2[aby]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

// The subset of the Prometheus exporter-toolkit web configuration this exporter supports; unknown keys are errors.
const schema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1),
      key_file: z.string().min(1),
      min_version: z.enum(['TLS12', 'TLS13']).optional(),
    })
    .optional(),
  basic_auth_users: z.record(z.string().min(1), z.string().regex(BCRYPT, 'must be a bcrypt hash')).optional(),
});

/** The validated web configuration (`--web.config.file`). */
export interface WebConfig {
  /** TLS certificate and key (PEM), read at load; absent serves plain HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly minVersion: 'TLSv1.2' | 'TLSv1.3' };
  /** bcrypt hashes by user name; empty means no authentication. */
  readonly users: ReadonlyMap<string, string>;
}

// The certificate and key as the HTTPS server and `--healthcheck` will use them, so that a file that is not PEM or a
// key of another certificate is a config error naming the file, not a Node stack trace at start.
function checkTlsPair(tls: NonNullable<WebConfig['tls']>, certPath: string, keyPath: string): void {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(tls.cert);
  } catch {
    throw new ConfigError([`web config: tls_server_config.cert_file: ${certPath} is not a PEM certificate`]);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key);
  } catch {
    throw new ConfigError([`web config: tls_server_config.key_file: ${keyPath} is not a PEM private key`]);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new ConfigError([`web config: tls_server_config.key_file: ${keyPath} is not the private key of the certificate in ${certPath}`]);
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion });
  } catch (err) {
    // OpenSSL's reason, without its stack: what else it refuses (a key too weak for its security level, say).
    const reason = (err as Error).message.split('\n')[0] ?? 'unusable';
    throw new ConfigError([`web config: tls_server_config: ${certPath} and ${keyPath} cannot be used: ${reason}`]);
  }
}

/**
 * Reads and validates a web configuration file; relative paths are resolved against the file's folder, and the TLS
 * certificate and key must be PEM and a pair.
 */
export function loadWebConfig(file: string): WebConfig {
  let doc: unknown;
  try {
    doc = parse(readFileBounded(file, MAX_CONFIG_FILE_BYTES)) ?? {};
  } catch (err) {
    throw new ConfigError([`web config ${file}: ${(err as Error).message.split('\n')[0] ?? 'unreadable'}`]);
  }
  const result = schema.safeParse(doc, { error: configErrorMap });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues).map((p) => `web config: ${p}`));
  const c = result.data;
  const base = dirname(resolve(file));
  let tls: WebConfig['tls'];
  if (c.tls_server_config) {
    const certPath = resolve(base, c.tls_server_config.cert_file);
    const keyPath = resolve(base, c.tls_server_config.key_file);
    const read = (key: 'cert_file' | 'key_file', path: string): Buffer => {
      try {
        return Buffer.from(readFileBounded(path, MAX_CONFIG_FILE_BYTES));
      } catch {
        throw new ConfigError([`web config: tls_server_config.${key}: cannot read ${path}`]);
      }
    };
    tls = { cert: read('cert_file', certPath), key: read('key_file', keyPath), minVersion: c.tls_server_config.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2' };
    checkTlsPair(tls, certPath, keyPath);
  }
  return { ...(tls && { tls }), users: new Map(Object.entries(c.basic_auth_users ?? {})) };
}

/**
 * How long a client may take to send a request's headers, and the whole request. Node's defaults (60 s and 300 s,
 * checked every 30 s) let a client that sends a few bytes hold a connection for 90 s; the webhook routes face the
 * internet, Twilio gives a sink 5 s to answer, and the other requests are small.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** See HEADERS_TIMEOUT_MS. */
export const REQUEST_TIMEOUT_MS = 30_000;
// Incomplete requests are checked for those timeouts this often.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * How long a connection may make no progress at all, sending or receiving, before it is destroyed. The two timeouts
 * above bound only the request: a client that asked for `/metrics` and stopped reading kept its connection, and the
 * rendered exposition the answer holds, for ever. Well above Prometheus' default scrape timeout (10 s), and longer
 * than REQUEST_TIMEOUT_MS and its check, so a client too slow to send its request gets its 408 first instead of a
 * silent close; a slow reader that keeps reading is not cut off, and idle keep-alive connections keep Node's shorter
 * `keepAliveTimeout` (5 s).
 */
export const IDLE_TIMEOUT_MS = 40_000;

/**
 * How long a TLS client may take to finish its handshake. Node's default (120 s) let a client that opens a TCP
 * connection to the TLS listener and sends nothing hold it for two minutes: the timeouts above start only once
 * the handshake is done.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Tuning of {@link createWebServer}; tests shorten the timeouts. */
export interface WebServerOptions {
  /** See IDLE_TIMEOUT_MS [IDLE_TIMEOUT_MS]. */
  readonly idleTimeoutMs?: number;
}

/** Creates the HTTP or HTTPS server for the app, as the web configuration says; slow clients are cut off. */
export function createWebServer(app: RequestListener, web: WebConfig | undefined, options: WebServerOptions = {}): Server {
  const limits = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS };
  const server = web?.tls
    ? createHttpsServer({ cert: web.tls.cert, key: web.tls.key, minVersion: web.tls.minVersion, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ...limits }, app)
    : createHttpServer(limits, app);
  // With no 'timeout' listener, Node destroys the socket; the response closes and the /metrics route hands its
  // render back. Every read or completed write restarts the clock.
  server.setTimeout(options.idleTimeoutMs ?? IDLE_TIMEOUT_MS);
  return server;
}
