import { createHash, timingSafeEqual } from 'node:crypto';
import { ACCOUNT_SID_PATTERN, API_KEY_SID_PATTERN } from './sid.ts';
import { authenticationError } from './twilio-error.ts';

/** An account the simulator serves, with its Auth Token and any API keys. */
export interface SimulatorAccount {
  /** `AC` + 32 hex. */
  readonly accountSid: string;
  /** The account's Auth Token (Basic password with the Account SID as user). */
  readonly authToken: string;
  /** API keys of this account (Basic user `SK…`, password the secret). */
  readonly apiKeys?: ReadonlyArray<{ readonly sid: string; readonly secret: string }>;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected));

/** The configured accounts and keys; answers "which account do these Basic credentials open?". */
export class AccountRegistry {
  readonly #tokens = new Map<string, string>();
  readonly #keys = new Map<string, { accountSid: string; secret: string }>();

  /** Checks every SID's shape and refuses duplicates, so a typo fails at start and not at request time. */
  constructor(accounts: readonly SimulatorAccount[]) {
    if (accounts.length === 0) throw new Error('the simulator needs at least one account');
    for (const account of accounts) {
      if (!ACCOUNT_SID_PATTERN.test(account.accountSid)) {
        throw new Error(`account SID ${JSON.stringify(account.accountSid)} must match ${ACCOUNT_SID_PATTERN.source}`);
      }
      if (this.#tokens.has(account.accountSid)) throw new Error(`account ${account.accountSid} is configured twice`);
      if (account.authToken === '') throw new Error(`account ${account.accountSid} has an empty auth token`);
      this.#tokens.set(account.accountSid, account.authToken);
      for (const key of account.apiKeys ?? []) {
        if (!API_KEY_SID_PATTERN.test(key.sid)) {
          throw new Error(`API key SID ${JSON.stringify(key.sid)} must match ${API_KEY_SID_PATTERN.source}`);
        }
        if (this.#keys.has(key.sid)) throw new Error(`API key ${key.sid} is configured twice`);
        if (key.secret === '') throw new Error(`API key ${key.sid} has an empty secret`);
        this.#keys.set(key.sid, { accountSid: account.accountSid, secret: key.secret });
      }
    }
  }

  /** The configured Account SIDs, in configuration order. */
  accountSids(): string[] {
    return [...this.#tokens.keys()];
  }

  /** The account's Auth Token (Event Streams signs deliveries with it), or undefined. */
  authToken(accountSid: string): string | undefined {
    return this.#tokens.get(accountSid);
  }

  /** Whether an account is configured. */
  has(accountSid: string): boolean {
    return this.#tokens.has(accountSid);
  }

  /**
   * The account an `Authorization: Basic …` header opens: Account SID + Auth Token, or an API key of
   * that account + its secret. Anything else throws 401/20003.
   */
  authenticate(authorization: string | undefined): string {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (match?.[1] === undefined) throw authenticationError();
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw authenticationError();
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const token = this.#tokens.get(user);
    if (token !== undefined && sameSecret(password, token)) return user;
    const key = this.#keys.get(user);
    if (key !== undefined && sameSecret(password, key.secret)) return key.accountSid;
    throw authenticationError();
  }
}
