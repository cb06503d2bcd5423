import { describe, expect, it } from 'vitest';
import { parseListenAddress, parseSimulatorArgs } from '../../../src/simulator/cli-args.ts';

const AC1 = 'AC0123456789abcdef0123456789abcdef';
const AC2 = 'ACfedcba9876543210fedcba9876543210';
const SK1 = 'SK0123456789abcdef0123456789abcdef';
const SK2 = 'SKfedcba9876543210fedcba9876543210';

describe('simulator command line', () => {
  it('defaults to the demo account on 127.0.0.1:8089', () => {
    expect(parseSimulatorArgs([])).toEqual({ help: false, calls: 0, options: { host: '127.0.0.1', port: 8089 } });
    expect(parseSimulatorArgs(['--help'])).toEqual({ help: true });
  });

  it('reads every option', () => {
    const command = parseSimulatorArgs([
      '--web.listen-address=0.0.0.0:0',
      '--seed=7',
      '--lag=1.5',
      '--order=desc',
      '--page-token-ttl-ms=60000',
      '--concurrency-limit=5',
      '--public-url=http://sim:8089',
      '--calls',
      '12',
    ]);
    expect(command).toEqual({
      help: false,
      calls: 12,
      options: {
        host: '0.0.0.0',
        port: 0,
        seed: 7,
        lagSeconds: 1.5,
        order: 'desc',
        pageTokenTtlMs: 60000,
        concurrencyLimit: 5,
        publicUrl: 'http://sim:8089',
      },
    });
  });

  it('pairs repeated accounts and keys in order', () => {
    const one = parseSimulatorArgs(['--account-sid', AC1, '--auth-token', 't1', '--api-key-sid', SK1, '--api-key-secret', 's1', '--api-key-sid', SK2, '--api-key-secret', 's2']);
    expect(one.help === false && one.options.accounts).toEqual([
      { accountSid: AC1, authToken: 't1', apiKeys: [{ sid: SK1, secret: 's1' }, { sid: SK2, secret: 's2' }] },
    ]);
    const two = parseSimulatorArgs(['--account-sid', AC1, '--auth-token', 't1', '--account-sid', AC2, '--auth-token', 't2', '--api-key-sid', SK1, '--api-key-secret', 's1']);
    expect(two.help === false && two.options.accounts).toEqual([
      { accountSid: AC1, authToken: 't1', apiKeys: [{ sid: SK1, secret: 's1' }] },
      { accountSid: AC2, authToken: 't2', apiKeys: [] },
    ]);
  });

  it('explains what is wrong', () => {
    expect(() => parseSimulatorArgs(['--bogus'])).toThrow(/bogus/);
    expect(() => parseSimulatorArgs(['--order=sideways'])).toThrow(/--order must be asc or desc/);
    expect(() => parseSimulatorArgs(['--lag=-1'])).toThrow(/--lag must be a number >= 0/);
    expect(() => parseSimulatorArgs(['--calls=2.5'])).toThrow(/--calls must be an integer/);
    expect(() => parseSimulatorArgs(['--account-sid', AC1])).toThrow(/one --auth-token per --account-sid/);
    expect(() => parseSimulatorArgs(['--api-key-sid', SK1, '--api-key-secret', 's'])).toThrow(/needs an --account-sid/);
    expect(() => parseSimulatorArgs(['--web.listen-address=8089'])).toThrow(/host:port/);
    expect(() => parseSimulatorArgs(['--web.listen-address=127.0.0.1:99999'])).toThrow(/host:port/);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListenAddress('localhost:1')).toEqual({ host: 'localhost', port: 1 });
  });
});
