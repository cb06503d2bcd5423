/** Which slice of all calls this replica owns: calls whose CallSid hashes to `ordinal` modulo `total`. */
export interface Shard {
  /** This replica's shard, 0..total-1. */
  readonly ordinal: number;
  /** Number of shards. */
  readonly total: number;
}

/** FNV-1a over a string's UTF-16 code units, as an unsigned 32-bit integer: stable across processes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard of a CallSid, the same in every replica whatever source announced it. */
export function shardOf(callSid: string, total: number): number {
  return fnv1a32(callSid) % total;
}

/** Whether the shard owns the call. */
export function owns(shard: Shard, callSid: string): boolean {
  return shard.total <= 1 || shardOf(callSid, shard.total) === shard.ordinal;
}

/**
 * Resolves the shard from flags, or from a StatefulSet pod name (`name-2` is ordinal 2) when only the
 * total is given; throws naming the flag when the values cannot work.
 */
export function resolveShard(opts: { shard?: string; totalShards?: string; podName?: string }): Shard {
  const total = opts.totalShards === undefined ? 1 : Number(opts.totalShards);
  if (!Number.isInteger(total) || total < 1) throw new Error(`--total-shards: must be a positive integer, got ${JSON.stringify(opts.totalShards)}`);
  let ordinal: number;
  if (opts.shard !== undefined) {
    ordinal = Number(opts.shard);
    if (!Number.isInteger(ordinal) || ordinal < 0) throw new Error(`--shard: must be a non-negative integer, got ${JSON.stringify(opts.shard)}`);
  } else if (total > 1) {
    if (opts.podName === undefined || opts.podName === '') throw new Error('--shard: not given, and POD_NAME is not set (a StatefulSet sets it to name-N)');
    const m = /-(\d+)$/.exec(opts.podName);
    if (!m) throw new Error('--shard: not given, and POD_NAME does not end in a StatefulSet ordinal (name-N)');
    ordinal = Number(m[1]);
  } else {
    ordinal = 0;
  }
  if (ordinal >= total) throw new Error(`--shard: ${ordinal} must be below --total-shards ${total}`);
  return { ordinal, total };
}
