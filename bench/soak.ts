// Soak: 1,000 calls with churn, under faults, for SOAK_SECONDS (default 600); prints RSS and heap over time.
// The simulator runs in a child process so the figures are the exporter's alone.
//   npx node --expose-gc bench/soak.ts            (or SOAK_SECONDS=120 for a quick look)
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { createExporter } from '../src/exporter.ts';
import { DEMO_ACCOUNT } from '../src/simulator/demo-account.ts';
import { SimulatorControl } from '../src/simulator/control-client.ts';
import { CALL_TYPES } from '../src/samples/sample.ts';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const CALLS = Number(process.env['SOAK_CALLS'] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;

async function startSimulatorProcess(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['src/simulator/main.ts', '--web.listen-address=127.0.0.1:0', '--lag=0', '--seed=9'], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`simulator exited ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

async function main(): Promise<void> {
  const sim = await startSimulatorProcess();
  const control = new SimulatorControl(sim.url);
  const live: string[] = [];
  const newCall = async (i: number, age: number): Promise<void> => {
    const c = await control.createCall({ type: CALL_TYPES[i % CALL_TYPES.length]!, age_seconds: age, degraded: i % 5 === 0 });
    live.push(c.sid);
  };
  for (let i = 0; i < CALLS; i++) await newCall(i, 30 + (i % 300));
  await control.setFaults({ rate_429: 0.05, rate_500: 0.03, rate_503: 0.03, timeout_rate: 0.01, timeout_hold_ms: 3000, truncate_rate: 0.02, reset_rate: 0.01 });

  const config = loadConfig({
    env: {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
      TWILIO_INSIGHTS_BASE_URL: sim.url,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_INSIGHTS_EXPORTER_DISCOVERY_ENABLED: 'true',
      TWILIO_INSIGHTS_EXPORTER_DISCOVERY_INTERVAL: '10s',
      TWILIO_INSIGHTS_EXPORTER_REQUEST_TIMEOUT: '2s',
      TWILIO_INSIGHTS_EXPORTER_CALL_RETENTION: '1m',
      TWILIO_INSIGHTS_EXPORTER_DRAIN_PERIOD: '20s',
    },
  });
  const exporter = createExporter({ config, logger: pino({ level: 'silent' }) });
  await exporter.start();

  let churned = 0;
  let n = CALLS;
  // About 1,000 calls replaced every 10 minutes: two ended and two started each second.
  const churn = setInterval(() => {
    for (let k = 0; k < 2 && live.length > 0; k++) {
      const sid = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
      control.endCall(sid).catch(() => undefined);
      churned++;
      newCall(n++, 0).catch(() => undefined);
    }
  }, 1000);

  const rows: Array<{ t: number; rss: number; heap: number; tracked: number; render: number }> = [];
  const started = Date.now();
  const sample = async (): Promise<void> => {
    gc?.();
    const m = process.memoryUsage();
    const t0 = performance.now();
    (await exporter.prometheus.render('text')).release();
    rows.push({ t: Math.round((Date.now() - started) / 1000), rss: m.rss, heap: m.heapUsed, tracked: exporter.registry.size, render: performance.now() - t0 });
    const r = rows.at(-1)!;
    process.stdout.write(`t=${r.t}s rss=${mib(r.rss)}MiB heap=${mib(r.heap)}MiB tracked=${r.tracked} render=${r.render.toFixed(1)}ms churned=${churned}\n`);
  };
  await sample();
  while (Date.now() - started < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 10_000));
    await sample();
  }
  clearInterval(churn);
  await exporter.stop();
  sim.stop();

  // Compare the second minute (after warm-up) with the last minute.
  const early = rows.filter((r) => r.t >= 60 && r.t <= 120);
  const late = rows.slice(-6);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const rssEarly = avg(early.map((r) => r.rss));
  const rssLate = avg(late.map((r) => r.rss));
  const heapEarly = avg(early.map((r) => r.heap));
  const heapLate = avg(late.map((r) => r.heap));
  process.stdout.write(
    `\nsoak ${SECONDS}s, ${CALLS} calls, ${churned} churned, faults on: ` +
      `RSS ${mib(rssEarly)} -> ${mib(rssLate)} MiB (x${(rssLate / rssEarly).toFixed(2)}), ` +
      `heap ${mib(heapEarly)} -> ${mib(heapLate)} MiB (x${(heapLate / heapEarly).toFixed(2)})${gc ? '' : ' (run with --expose-gc for steadier heap figures)'}\n`,
  );
}

await main();
