import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { ACCOUNT_A, CALL_1, T0 } from '../store/sample-builder.ts';

describe('CallRegistry hints', () => {
  it('keeps the parties of the first announcement that gave any, whichever source came first', () => {
    const registry = new CallRegistry({ maxCalls: 10, drainPeriodMs: 0, retentionMs: 0, now: () => T0 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    expect(registry.get(CALL_1)!.hints).toBeUndefined();
    registry.track(CALL_1, ACCOUNT_A, 'webhook', { from: 'client:alice', to: '+15550100' });
    registry.track(CALL_1, ACCOUNT_A, 'discovery', { from: '+15550199', to: '+15550100', trunkSid: 'TK1' });
    expect(registry.get(CALL_1)!.hints).toEqual({ from: 'client:alice', to: '+15550100' });
  });
});
