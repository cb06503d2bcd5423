import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { CallRegistry } from '../calls/registry.ts';
import type { SampleStore } from '../store/sample-store.ts';
import { credentialsFor } from './authorization.ts';
import { methodNotAllowed } from './error-responses.ts';
import { ACCOUNT_SID_RE, ACCOUNT_SID_RULE, CALL_SID_RE, CALL_SID_RULE } from '../samples/ids.ts';


/** Options of the admin API. */
export interface AdminRoutesOptions {
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  /** The bearer token required, read per request so a reload can rotate it. */
  readonly token: () => string | undefined;
  /** Account SIDs being polled; a call's account may be omitted when there is exactly one. */
  readonly accountSids: () => readonly string[];
  /** Account SIDs a reload added that are not polled until a restart [none]. */
  readonly pendingAccountSids?: () => readonly string[];
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

// Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

// The token a request carries as `Authorization: Bearer <token>` (the scheme in any case), or ''.
function bearerOf(req: Request): string {
  return credentialsFor(req.get('authorization'), 'Bearer') ?? '';
}

function problem(res: Response, status: number, message: string): void {
  res.status(status).json({ error: message });
}

/** `/api/v1/calls`: list, track (PUT) and stop (DELETE) calls, behind a bearer token; off when no token is set. */
export function adminRoutes(options: AdminRoutesOptions): Router {
  const router = express.Router();
  const auth = (req: Request, res: Response, next: NextFunction): void => {
    const expected = options.token();
    if (expected === undefined) {
      problem(res, 404, 'admin API disabled: set admin.bearer_token');
      return;
    }
    const given = bearerOf(req);
    if (given === '' || !tokenMatches(given, expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="twilio-insights-exporter"');
      problem(res, 401, 'missing or invalid bearer token');
      return;
    }
    next();
  };
  router.use('/api/v1', auth, express.json({ limit: '16kb' }));

  router.route('/api/v1/calls').get((_req, res) => {
    const calls = [...options.registry.calls()].map((c) => {
      let last = 0;
      for (const s of options.store.get(c.callSid)?.streams.values() ?? []) last = Math.max(last, s.lastTimestampMs);
      return {
        call_sid: c.callSid,
        account_sid: c.accountSid,
        state: options.registry.lifecycle(c),
        sources: [...c.sources],
        tracked_at: new Date(c.trackedAtMs).toISOString(),
        ended_at: c.endedAtMs === undefined ? null : new Date(c.endedAtMs).toISOString(),
        last_sample_at: last === 0 ? null : new Date(last).toISOString(),
      };
    });
    res.json({ calls });
  }).all(methodNotAllowed('GET'));

  const one = router.route('/api/v1/calls/:sid');
  one.put((req, res) => {
    const sid = req.params['sid'] ?? '';
    if (!CALL_SID_RE.test(sid)) return problem(res, 400, `call_sid: ${CALL_SID_RULE}`);
    const body: unknown = req.body;
    const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['account_sid'] : undefined;
    const accounts = options.accountSids();
    let accountSid: string;
    if (given === undefined) {
      if (accounts.length !== 1) return problem(res, 400, 'account_sid: required when several accounts are configured');
      accountSid = accounts[0]!;
    } else if (typeof given !== 'string' || !ACCOUNT_SID_RE.test(given)) {
      return problem(res, 400, `account_sid: ${ACCOUNT_SID_RULE}`);
    } else if (options.pendingAccountSids?.().includes(given)) {
      return problem(res, 409, `account_sid: ${given} was added by a reload and is not polled until a restart`);
    } else if (!accounts.includes(given)) {
      return problem(res, 400, `account_sid: ${given} is not a configured account`);
    } else {
      accountSid = given;
    }
    const result = options.registry.track(sid, accountSid, 'admin');
    if (result === 'other_account') return problem(res, 409, `call ${sid} is tracked for account ${options.registry.get(sid)?.accountSid ?? ''}`);
    if (result === 'refused') return problem(res, 409, 'max_calls reached: call not tracked');
    if (result === 'not_owned') return problem(res, 409, 'call belongs to another shard');
    res.status(result === 'tracked' ? 201 : 200).json({ call_sid: sid, account_sid: accountSid, result });
  });

  one.delete((req, res) => {
    const sid = req.params['sid'] ?? '';
    if (!CALL_SID_RE.test(sid)) return problem(res, 400, `call_sid: ${CALL_SID_RULE}`);
    if (!options.registry.remove(sid)) return problem(res, 404, `call ${sid} is not tracked`);
    res.status(204).end();
  });
  one.all(methodNotAllowed('PUT', 'DELETE'));
  return router;
}

/**
 * The admin API for the requests that carry its bearer token, to be offered each request ahead of the web config's
 * basic-auth guard: one Authorization header cannot hold both credentials, and the token is the stronger, narrower
 * secret. Every other request, and one the admin API does not answer (no such admin route), is passed on to meet
 * the guard, so the token opens nothing but the admin API.
 */
export function adminTokenHolders(admin: RequestHandler, token: () => string | undefined): RequestHandler {
  return (req, res, next) => {
    const expected = token();
    const given = bearerOf(req);
    if (expected !== undefined && given !== '' && tokenMatches(given, expected)) admin(req, res, next);
    else next();
  };
}
