import type { Direction, Edge, Sample, SampleValues } from '../../../src/samples/sample.ts';

/** SIDs shared by the store, poller and metrics tests. */
export const ACCOUNT_A = 'AC998c10b68cbfda9f67277f7d8f4439c9';
export const ACCOUNT_B = 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
export const CALL_1 = 'CA7569efe0253644fa4a88aa97beca3310';
export const CALL_2 = 'CA0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7';
export const CALL_3 = 'CAcccccccccccccccccccccccccccccccc';

/** 2024-01-01T00:00:00Z, a round start for sample clocks. */
export const T0 = Date.UTC(2024, 0, 1);

/** Options of {@link sample}. */
export interface SampleSpec {
  callSid?: string;
  accountSid?: string;
  edge?: Edge;
  direction?: Direction;
  /** Sample time as seconds after {@link T0}. */
  at: number;
  values?: SampleValues;
  codecName?: string;
  region?: string;
}

/** A domain sample, as the parser would produce it; values default to a healthy sdk_edge interval. */
export function sample(spec: SampleSpec): Sample {
  return {
    callSid: spec.callSid ?? CALL_1,
    accountSid: spec.accountSid ?? ACCOUNT_A,
    edge: spec.edge ?? 'sdk_edge',
    direction: spec.direction ?? 'both',
    timestampMs: T0 + spec.at * 1000,
    ...(spec.codecName !== undefined && { codecName: spec.codecName }),
    ...(spec.region !== undefined && { region: spec.region }),
    values: spec.values ?? { mos: 4.3, rttSeconds: 0.08, jitterSeconds: 0.004, packetLossRatio: 0, packetsSent: spec.at * 50 },
  };
}
