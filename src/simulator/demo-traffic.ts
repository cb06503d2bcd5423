import { CALL_TYPES } from '../samples/sample.ts';
import type { SimCall } from './sim-call.ts';
import type { Simulator } from './simulator.ts';

/**
 * Starts `count` calls of mixed types (round robin over CALL_TYPES), already running for one to ten
 * minutes so values exist at once, every fourth one degraded. They run until ended.
 */
export function startDemoCalls(sim: Simulator, count: number): SimCall[] {
  const calls: SimCall[] = [];
  for (let i = 0; i < count; i++) {
    const type = CALL_TYPES[i % CALL_TYPES.length] ?? 'carrier';
    calls.push(sim.createCall({ type, ageSeconds: 60 + ((i * 37) % 540), degraded: i % 4 === 3 }));
  }
  return calls;
}
