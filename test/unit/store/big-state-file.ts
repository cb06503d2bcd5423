import { closeSync, openSync, writeSync } from 'node:fs';
import { STATE_FORMAT } from '../../../src/store/state-file.ts';

/** Options of {@link writeBigStateFile}. */
export interface BigStateFile {
  /** Calls written. */
  readonly calls: number;
  /** `parked_at_ms` of the newest call; call i was parked `calls - i` ms before it. */
  readonly nowMs: number;
  /** Every `liveEvery`-th call (i % liveEvery === 0) is written as live (parked_at_ms null). */
  readonly liveEvery: number;
  /** 1: one JSON document (what earlier releases wrote); 2: a header line and one call per line. */
  readonly version: 1 | 2;
}

/** Call i's SID: CA and 32 hex digits. */
export function bigCallSid(i: number): string {
  return `CA${i.toString(16).padStart(32, '0')}`;
}

// Four streams of eight runs and every value: about 3.1 KB a call, so a 100 MB file is about 32,000 calls.
function streams(nowMs: number): string {
  const out: string[] = [];
  for (const [edge, direction] of [['carrier_edge', 'inbound'], ['carrier_edge', 'outbound'], ['sdk_edge', 'both'], ['client_edge', 'unknown']]) {
    const runs: string[] = [];
    let t = nowMs - 3_600_000;
    for (let r = 0; r < 8; r++) {
      runs.push(`[${t},${t + 90_000},10000]`);
      t += 120_000;
    }
    const last = t - 30_000;
    out.push(
      `{"edge":"${edge}","direction":"${direction}","last_timestamp_ms":${last},"values":{"mos":4.3123456789,"rttSeconds":0.0812345,` +
        `"jitterSeconds":0.0041234,"jitterAvgSeconds":0.0031234,"jitterMaxSeconds":0.0121234,"packetLossRatio":0.0012345,` +
        `"audioInLevel":1234,"audioOutLevel":2345,"packetsSent":123456,"packetsReceived":123400,"packetsLost":56,` +
        `"bytesSent":24691200,"bytesReceived":24680000},"seen":{"runs":[${runs.join(',')}],"step":10000,"floor":null}}`,
    );
  }
  return out.join(',');
}

/** Writes a state file of many calls quickly (one template per call, written in 1 MB batches); returns its size. */
export function writeBigStateFile(path: string, o: BigStateFile): number {
  const fd = openSync(path, 'w');
  let size = 0;
  const put = (text: string): void => {
    size += writeSync(fd, text);
  };
  try {
    const savedAt = new Date(o.nowMs).toISOString();
    put(o.version === 1 ? `{"format":"${STATE_FORMAT}","version":1,"saved_at":"${savedAt}","calls":[` : `{"format":"${STATE_FORMAT}","version":2,"saved_at":"${savedAt}"}\n`);
    const body = streams(o.nowMs);
    let batch = '';
    for (let i = 0; i < o.calls; i++) {
      const parked = i % o.liveEvery === 0 ? 'null' : String(o.nowMs - (o.calls - i));
      const call =
        `{"call_sid":"${bigCallSid(i)}","account_sid":"AC998c10b68cbfda9f67277f7d8f4439c9","tracked_at_ms":${o.nowMs - 7_200_000},` +
        `"parked_at_ms":${parked},"call_type":"carrier","codec_name":"opus","media_region":"us1","streams":[${body}]}`;
      batch += o.version === 1 ? (i === 0 ? call : `,${call}`) : `${call}\n`;
      if (batch.length > 1_000_000) {
        put(batch);
        batch = '';
      }
    }
    put(batch + (o.version === 1 ? ']}' : ''));
  } finally {
    closeSync(fd);
  }
  return size;
}

/**
 * The SIDs a store capped at `keep` removed calls holds after loading such a file: the live calls first (they
 * count as removed at load), then the most recently removed ones.
 */
export function expectedKept(o: BigStateFile, keep: number): string[] {
  const live: number[] = [];
  const parked: number[] = [];
  for (let i = 0; i < o.calls; i++) (i % o.liveEvery === 0 ? live : parked).push(i);
  const kept = [...live.slice(-keep), ...parked.slice(-Math.max(0, keep - live.length))];
  return kept.map(bigCallSid).sort();
}
