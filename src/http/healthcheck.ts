import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { checkServerIdentity, rootCertificates } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { parseListenAddress } from '../config/listen-address.ts';
import type { WebConfig } from './web-config.ts';

/** What `--healthcheck` needs: where the exporter listens and how it is protected. */
export interface HealthcheckOptions {
  /** The exporter's listen address (`host:port`); an empty or wildcard host is asked on loopback. */
  readonly listenAddress: string;
  /** The exporter's web configuration, when it has one: its certificate is trusted, its users authenticate. */
  readonly webConfig?: WebConfig;
  /** User to authenticate as [the web config's only user]. */
  readonly username?: string;
  /** File holding the password of that user (one trailing newline removed). */
  readonly passwordFile?: string;
  /** Time allowed for the whole check [5 s]. */
  readonly timeoutMs?: number;
}

/** The verdict of one check: the exit code (0 healthy, 1 unhealthy or unreachable, 2 misconfigured check) and why. */
export interface HealthcheckResult {
  readonly code: 0 | 1 | 2;
  readonly message: string;
}

// The configured certificate is trusted as it is (pinned): it may be self-signed or a leaf of a private CA,
// and its names need not include the loopback address the check dials.
function tlsOptions(cert: Buffer): RequestOptions {
  const leaf = new X509Certificate(cert);
  return {
    ca: [cert.toString('utf8'), ...rootCertificates],
    allowPartialTrustChain: true,
    checkServerIdentity: (host: string, peer: PeerCertificate): Error | undefined =>
      peer.fingerprint256 === leaf.fingerprint256 ? undefined : checkServerIdentity(host, peer),
  };
}

function credentials(o: HealthcheckOptions): { header?: string; problem?: string } {
  const users = o.webConfig?.users;
  if (!users || users.size === 0) return {};
  const username = o.username ?? (users.size === 1 ? [...users.keys()][0]! : undefined);
  if (username === undefined) return { problem: 'the web config has several users: choose one with --healthcheck.username' };
  if (!users.has(username)) return { problem: `--healthcheck.username: ${username} is not a user of the web config` };
  if (o.passwordFile === undefined) return { problem: 'the web config requires basic auth: give the password with --healthcheck.password-file' };
  let password: string;
  try {
    password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return { problem: `--healthcheck.password-file: cannot read ${o.passwordFile}` };
  }
  return { header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/** Asks the running exporter's `/-/healthy` the way a client of its web config would; never throws. */
export async function runHealthcheck(o: HealthcheckOptions): Promise<HealthcheckResult> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseListenAddress(o.listenAddress));
  } catch (err) {
    return { code: 2, message: `listen address ${o.listenAddress}: ${(err as Error).message}` };
  }
  if (port === 0) return { code: 2, message: 'listen address has port 0: the port the exporter picked is not known' };
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  const auth = credentials(o);
  if (auth.problem !== undefined) return { code: 2, message: auth.problem };
  const tls = o.webConfig?.tls;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/-/healthy`;
  const options: RequestOptions = {
    method: 'GET',
    timeout: o.timeoutMs ?? 5000,
    headers: { accept: 'text/plain', ...(auth.header !== undefined && { authorization: auth.header }) },
    ...(tls && tlsOptions(tls.cert)),
  };
  return new Promise<HealthcheckResult>((done) => {
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status === 200) done({ code: 0, message: `healthy: ${url} answered 200` });
      else if (status === 401) done({ code: 1, message: `unhealthy: ${url} refused the credentials (401)` });
      else done({ code: 1, message: `unhealthy: ${url} answered ${status}` });
    };
    const req: ClientRequest = tls ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeout} ms`)));
    req.on('error', (err) => done({ code: 1, message: `unhealthy: ${url}: ${err.message}` }));
    req.end();
  });
}
