import { SimulatorControl } from '../../src/simulator/control-client.ts';

/** The simulator's /_simulator control API client, bound to one simulator URL. */
export function simControl(simUrl: string): SimulatorControl {
  return new SimulatorControl(simUrl);
}
