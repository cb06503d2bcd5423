import type { Direction, Edge } from '../samples/sample.ts';
import { hashString, unitAt } from './hash.ts';

/** What one 10 s window of one stream measured. Units: ms, percent, MOS 1..4.5, audio level 0..32767. */
export interface IntervalSignal {
  /** Interval jitter, ms (integer, as the SDK reports it). */
  readonly jitterMs: number;
  /** Highest jitter seen inside the window, ms; feeds the gateway `cumulative.jitter.max`. */
  readonly jitterPeakMs: number;
  /** Round-trip time, ms (integer). */
  readonly rttMs: number;
  /** Mean opinion score, 1..4.5, two decimals. */
  readonly mos: number;
  /** Packets expected on the receive side of this stream in the window. */
  readonly packetsExpected: number;
  /** Of those, packets lost. */
  readonly packetsLost: number;
  /** `packetsLost / packetsExpected` in percent, two decimals. */
  readonly lossPercent: number;
  /** Packets sent on the send side of this stream in the window. */
  readonly packetsSent: number;
  /** Input audio level, 0..32767. */
  readonly audioIn: number;
  /** Output audio level, 0..32767. */
  readonly audioOut: number;
}

/** The baseline of the call this stream belongs to (see CallProfile). */
export interface SignalBaseline {
  /** The call's hash key: episodes are per call, so all its streams degrade together. */
  readonly callKey: number;
  /** Round-trip time in a good stretch, ms. */
  readonly baseRttMs: number;
  /** Jitter in a good stretch, ms. */
  readonly baseJitterMs: number;
  /** Background loss, percent. */
  readonly baseLossPercent: number;
  /** Whether episodes are frequent and severe. */
  readonly degraded: boolean;
}

/** How strongly each kind of degradation hits one window, each 0..1. */
export interface EpisodeIntensity {
  /** Jitter burst. */
  readonly jitter: number;
  /** Loss spike. */
  readonly loss: number;
  /** Latency excursion (RTT over 400 ms). */
  readonly latency: number;
}

/** Samples per episode block: at most one episode starts in each 3 minute block. */
export const EPISODE_BLOCK_SAMPLES = 18;
const NO_EPISODE: EpisodeIntensity = { jitter: 0, loss: 0, latency: 0 };

/** The stream's own hash key, for noise that differs between edges and directions of one call. */
export function streamKey(seed: number, callSid: string, edge: Edge, direction: Direction): number {
  return hashString(`${seed}|${callSid}|${edge}|${direction}`);
}

/** Kinds of degradation episode. */
export type EpisodeKind = 'loss' | 'jitter' | 'latency' | 'mixed';

/** The episode of one block: where it starts and ends (sample offsets in the block), kind and strength. */
export interface Episode {
  /** First sample of the episode, as an offset into its block. */
  readonly start: number;
  /** Number of samples. */
  readonly length: number;
  /** What degrades. */
  readonly kind: EpisodeKind;
  /** Strength 0.4..1. */
  readonly severity: number;
}

/**
 * The episode of block `block` of a call, if it has one: each block of EPISODE_BLOCK_SAMPLES holds
 * an episode with probability 12% (75% on degraded calls), of 2..7 samples (2..11 degraded), of
 * one kind (loss, jitter, latency, or all three).
 */
export function episodeInBlock(callKey: number, block: number, degraded: boolean): Episode | undefined {
  if (unitAt(callKey, block, 101) >= (degraded ? 0.75 : 0.12)) return undefined;
  const length = 2 + Math.floor(unitAt(callKey, block, 102) * (degraded ? 10 : 6));
  const start = Math.floor(unitAt(callKey, block, 103) * (EPISODE_BLOCK_SAMPLES - length + 1));
  const severity = degraded ? 0.6 + 0.4 * unitAt(callKey, block, 105) : 0.4 + 0.6 * unitAt(callKey, block, 105);
  const pick = unitAt(callKey, block, 104);
  const kind: EpisodeKind = pick < 0.3 ? 'loss' : pick < 0.55 ? 'jitter' : pick < 0.75 ? 'latency' : 'mixed';
  return { start, length, kind, severity };
}

/** How hard the call's episode (if any) hits sample `index`; the first and last samples are ramps. */
export function episodeAt(callKey: number, index: number, degraded: boolean): EpisodeIntensity {
  const episode = episodeInBlock(callKey, Math.floor(index / EPISODE_BLOCK_SAMPLES), degraded);
  if (episode === undefined) return NO_EPISODE;
  const position = (index % EPISODE_BLOCK_SAMPLES) - episode.start;
  if (position < 0 || position >= episode.length) return NO_EPISODE;
  const intensity = episode.severity * (position === 0 || position === episode.length - 1 ? 0.6 : 1);
  switch (episode.kind) {
    case 'loss':
      return { jitter: 0, loss: intensity, latency: 0 };
    case 'jitter':
      return { jitter: intensity, loss: 0, latency: 0 };
    case 'latency':
      return { jitter: 0, loss: 0, latency: intensity };
    case 'mixed':
      return { jitter: intensity, loss: intensity, latency: intensity };
  }
}

/** MOS from an ITU-T G.107 E-model simplified for G.711 with random loss (Bpl 10), clamped to 1..4.5. */
export function estimateMos(rttMs: number, jitterMs: number, lossPercent: number): number {
  const delay = rttMs / 2 + jitterMs * 2 + 10;
  const delayImpairment = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0);
  const lossImpairment = (95 * lossPercent) / (lossPercent + 10);
  const r = 93.2 - delayImpairment - lossImpairment;
  const mos = r <= 0 ? 1 : r >= 100 ? 4.5 : 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100;
}

/**
 * The signal of window `index` of one stream: a pure function of the baseline, the stream key and
 * the index, so any sample can be recomputed at any time without storing it.
 */
export function intervalSignal(baseline: SignalBaseline, key: number, index: number): IntervalSignal {
  const episode = episodeAt(baseline.callKey, index, baseline.degraded);
  // One direction of a call can suffer more than the other: scale the episode per stream and block.
  const block = Math.floor(index / EPISODE_BLOCK_SAMPLES);
  const spread = 0.5 + unitAt(key, block, 106);
  const jitterHit = Math.min(1, episode.jitter * spread);
  const lossHit = Math.min(1, episode.loss * spread);
  const noise = (salt: number): number => unitAt(key, index, salt);

  const jitterExact = baseline.baseJitterMs * (0.5 + noise(1)) + jitterHit * (25 + 60 * noise(2));
  const jitterMs = Math.round(jitterExact);
  const jitterPeakMs = Math.max(jitterMs, Math.round(jitterExact * (1.2 + 0.6 * noise(3)) * 1000) / 1000);
  const background = noise(4) < 0.1 ? baseline.baseLossPercent * noise(5) * 4 : 0;
  // Late packets past a jitter buffer count as lost, so jitter bursts also cost some loss.
  const lossTarget = lossHit * (1.5 + 13.5 * noise(6)) + background + Math.max(0, jitterExact - 45) * 0.08;
  const packetsExpected = 500 + Math.round((noise(7) - 0.5) * 4);
  const packetsLost = Math.min(packetsExpected, Math.round((packetsExpected * lossTarget) / 100));
  const lossPercent = Math.round((packetsLost * 10_000) / packetsExpected) / 100;
  const rttMs = Math.round(
    baseline.baseRttMs * (0.9 + 0.2 * noise(8)) + episode.latency * (300 + 400 * noise(9)) + jitterExact * 0.5,
  );
  const audio = (talkSalt: number, levelSalt: number): number => {
    const level = noise(levelSalt);
    return noise(talkSalt) < 0.6 ? Math.round(800 + 9000 * level * level) : Math.round(20 + 250 * level);
  };
  return {
    jitterMs,
    jitterPeakMs,
    rttMs,
    mos: estimateMos(rttMs, jitterExact, lossPercent),
    packetsExpected,
    packetsLost,
    lossPercent,
    packetsSent: 500 + Math.round((noise(10) - 0.5) * 4),
    audioIn: audio(11, 12),
    audioOut: audio(13, 14),
  };
}
