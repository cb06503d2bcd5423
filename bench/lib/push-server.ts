// Child of bench/push.ts: one contender of the push bench alone in its process, so neither the other contender's
// heap nor the bench's delivery lists (tens of MB) add to its garbage collections. MODE `exporter` is the exporter
// wired by createExporter in push mode with at most CALLS calls, its real HTTP app; MODE `bare` reads each body and
// JSON.parse's it behind node:http. It listens on 127.0.0.1 (a free port, printed on stdout) and answers on the IPC
// channel: 'collect' after a full collection (so each measured run starts from a clean heap), 'cpu' with its CPU ms
// so far, and 'streams' with the calls and streams the exporter holds.
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchConfig, benchExporter } from './exporter.ts';
import { collect, cpuMs } from './stats.ts';

const [mode, callsText] = process.argv.slice(2);
const calls = Number(callsText);
if ((mode !== 'exporter' && mode !== 'bare') || !Number.isInteger(calls) || calls < 1) throw new Error('usage: push-server.ts exporter|bare CALLS');

const exporter = mode === 'exporter' ? benchExporter(benchConfig('http://127.0.0.1:9', { backfill: true, max_calls: calls }, { ingest_mode: 'push' })) : undefined;
const bare: RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: events.length }));
  });
};
const server = createServer({ keepAliveTimeout: 30_000 }, exporter?.app ?? bare);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('message', (m) => {
  if (m === 'collect') {
    collect();
    process.send?.('collected');
  } else if (m === 'cpu') {
    process.send?.(cpuMs());
  } else if (m === 'streams') {
    const streams = exporter ? [...exporter.store.calls()].reduce((n, c) => n + c.streams.size, 0) : 0;
    process.send?.({ calls: exporter?.store.size ?? 0, streams });
  }
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  void exporter?.stop().then(() => process.exit(0));
  if (!exporter) process.exit(0);
});
