import { seriesOf } from './exporter.ts';
import { SimulatorControl } from '../../src/simulator/control-client.ts';

/** The simulator's /_simulator control API client, bound to one simulator URL. */
export function simControl(simUrl: string): SimulatorControl {
  return new SimulatorControl(simUrl);
}

/** Fleet samples by `edge/direction`, as an exposition shows them (`twilio_voice_samples_total`). */
export function exported(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of seriesOf(text, 'twilio_voice_samples_total')) {
    const k = `${s.labels['edge']}/${s.labels['direction']}`;
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/** The samples the simulator serves of `sids` now, by `edge/direction`. */
export async function visible(simUrl: string, sids: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const sid of sids) {
    for (const r of await simControl(simUrl).samples(sid)) {
      const k = `${String(r['edge'])}/${String(r['direction'])}`;
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}
