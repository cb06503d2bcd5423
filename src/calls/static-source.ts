import type { Config } from '../config/types.ts';
import type { CallAnnouncer, CallSourceUnit } from './source.ts';

/** What the static list needs. */
export interface StaticCallsOptions {
  readonly announcer: CallAnnouncer;
  /** The `calls:` list of the configuration. */
  readonly calls: Config['calls'];
  /** Whether an account is running (polled); a call of an account added by a reload waits for a restart. */
  readonly isRunning: (accountSid: string) => boolean;
}

/** The `calls:` list of the config file as a source: announced at start and again on every reload. */
export function staticCallsSource(o: StaticCallsOptions): CallSourceUnit {
  let calls = o.calls;
  const announce = (): void => {
    // A call of an account added by a reload would count as active but never be polled.
    for (const call of calls) if (o.isRunning(call.accountSid)) o.announcer.track(call.callSid, call.accountSid, 'config');
  };
  return {
    name: 'config',
    start: announce,
    reconfigure(next) {
      calls = next.calls;
      announce();
    },
  };
}
