/** A parsed `host:port` listen address. */
export interface ListenAddress {
  /** Host or IP to bind (brackets of an IPv6 literal removed); empty means every interface. */
  readonly host: string;
  /** TCP port, 0..65535 (0 picks a free port). */
  readonly port: number;
}

/** The rule a listen address must follow, as shown in error messages. */
export const LISTEN_ADDRESS_RULE = 'must be host:port, e.g. ":9487" or "127.0.0.1:9487"';

const LISTEN_ADDRESS_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/;

/** Splits a listen address (`:9487`, `0.0.0.0:9487`, `[::1]:9487`); throws an Error naming the rule. */
export function parseListenAddress(address: string): ListenAddress {
  const match = LISTEN_ADDRESS_RE.exec(address);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new Error(LISTEN_ADDRESS_RULE);
  return { host: match[1] ?? match[2] ?? '', port };
}
