import type { CallType } from '../samples/sample.ts';
import { hashString, unitAt } from './hash.ts';

/** Per-call constants (region, codec, IPs, baseline quality), all derived from the seed and the Call SID. */
export interface CallProfile {
  /** The call's hash key, shared by all its streams so degradation hits every edge at once. */
  readonly key: number;
  /** Twilio media region, e.g. `us1`. */
  readonly region: string;
  /** Twilio edge location of the media gateway, e.g. `ashburn`. */
  readonly edgeLocation: string;
  /** Twilio media IP. */
  readonly twilioIp: string;
  /** Far-end media IP (documentation ranges only). */
  readonly externalIp: string;
  /** RTP payload type number. */
  readonly codec: number;
  /** Codec name. */
  readonly codecName: string;
  /** Average RTP packet size on the wire for this codec, bytes. */
  readonly bytesPerPacket: number;
  /** Round-trip time in a good stretch, ms. */
  readonly baseRttMs: number;
  /** Jitter in a good stretch, ms. */
  readonly baseJitterMs: number;
  /** Background packet loss in a good stretch, percent. */
  readonly baseLossPercent: number;
}

// Twilio media regions with their edge location and a plausible media address prefix.
const REGIONS: ReadonlyArray<{ region: string; location: string; ipPrefix: string; weight: number }> = [
  { region: 'us1', location: 'ashburn', ipPrefix: '54.172.60.', weight: 0.55 },
  { region: 'us2', location: 'umatilla', ipPrefix: '54.244.51.', weight: 0.1 },
  { region: 'ie1', location: 'dublin', ipPrefix: '54.171.127.', weight: 0.12 },
  { region: 'de1', location: 'frankfurt', ipPrefix: '35.156.191.', weight: 0.08 },
  { region: 'au1', location: 'sydney', ipPrefix: '54.252.254.', weight: 0.05 },
  { region: 'sg1', location: 'singapore', ipPrefix: '54.169.127.', weight: 0.04 },
  { region: 'jp1', location: 'tokyo', ipPrefix: '54.65.63.', weight: 0.03 },
  { region: 'br1', location: 'sao-paulo', ipPrefix: '177.71.206.', weight: 0.03 },
];

/** The profile of a simulated call, with the codec name and region it was created with, if any. */
export function profileOf(seed: number, call: { sid: string; type: CallType; codecName?: string; region?: string }): CallProfile {
  const derived = callProfile(seed, call.sid, call.type);
  return {
    ...derived,
    ...(call.codecName !== undefined && { codecName: call.codecName }),
    ...(call.region !== undefined && { region: call.region }),
  };
}

/** The stable hash key of a call under a seed. */
export function callKey(seed: number, callSid: string): number {
  return hashString(`${seed}|${callSid}`);
}

/** Derives the constants of one call. */
export function callProfile(seed: number, callSid: string, type: CallType): CallProfile {
  const key = callKey(seed, callSid);
  let pick = unitAt(key, 0, 11);
  let chosen = REGIONS[0];
  for (const candidate of REGIONS) {
    chosen = candidate;
    pick -= candidate.weight;
    if (pick < 0) break;
  }
  const region = chosen ?? { region: 'us1', location: 'ashburn', ipPrefix: '54.172.60.' };
  const codecPick = unitAt(key, 0, 12);
  const codec = type === 'client'
    ? codecPick < 0.85 ? { codec: 111, codecName: 'opus' } : { codec: 0, codecName: 'pcmu' }
    : codecPick < 0.75 ? { codec: 0, codecName: 'pcmu' } : { codec: 8, codecName: 'pcma' };
  const host = (salt: number): number => 1 + Math.floor(unitAt(key, 0, salt) * 254);
  return {
    key,
    region: region.region,
    edgeLocation: region.location,
    twilioIp: `${region.ipPrefix}${host(13)}`,
    externalIp: `${unitAt(key, 0, 14) < 0.5 ? '203.0.113.' : '198.51.100.'}${host(15)}`,
    ...codec,
    // G.711 is 160 payload bytes plus a 12 byte RTP header; Opus is variable, around 80-120.
    bytesPerPacket: codec.codec === 111 ? 80 + Math.floor(unitAt(key, 0, 16) * 40) : 172,
    baseRttMs: 30 + unitAt(key, 0, 17) * 110,
    baseJitterMs: 1 + unitAt(key, 0, 18) * 5,
    baseLossPercent: 0.05 + unitAt(key, 0, 19) * 0.4,
  };
}
