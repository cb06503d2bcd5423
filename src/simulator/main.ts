// The standalone simulator: `npm run simulator -- --web.listen-address=127.0.0.1:8089 --calls 10`.
import { parseSimulatorArgs, USAGE } from './cli-args.ts';
import { startDemoCalls } from './demo-traffic.ts';
import { startSimulator } from './server.ts';

let command;
try {
  command = parseSimulatorArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (command.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const running = await startSimulator(command.options);
const calls = startDemoCalls(running.simulator, command.calls);
const accounts = running.simulator.accounts.accountSids().join(', ');
process.stdout.write(`Twilio simulator listening on ${running.url} (accounts: ${accounts}; ${calls.length} demo calls)\n`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`simulator: ${signal}, closing\n`);
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`simulator: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
