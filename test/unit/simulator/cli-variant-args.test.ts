import { describe, expect, it } from 'vitest';
import { parseSimulatorArgs } from '../../../src/simulator/cli-args.ts';

describe('simulator command line: variants', () => {
  it('sets the partial Summary, SDK cadence and late publication at start', () => {
    const command = parseSimulatorArgs(['--partial-summary=during_call', '--sdk-sample-seconds=1', '--late-publication=samples', '--late-seconds=120']);
    expect(command.help === false && command.options.variant).toEqual({ partialSummary: 'during_call', sdkSampleSeconds: 1, latePublication: 'samples', lateSeconds: 120 });
  });

  it.each([
    [['--partial-summary=sometimes'], /--partial-summary must be one of after_end, during_call/],
    [['--sdk-sample-seconds=5'], /--sdk-sample-seconds must be one of 1, 10/],
    [['--late-publication=all'], /--late-publication must be one of none, direction, samples/],
    [['--late-seconds=5'], /--late-seconds must be a number >= 30/],
    [['--late-seconds=601'], /--late-seconds must be at most 600/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseSimulatorArgs(argv)).toThrow(message);
  });
});
