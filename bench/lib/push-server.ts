// Child of bench/push.ts: one contender of the push bench alone in its process, so neither the other contender's
// heap nor the bench's delivery lists (tens of MB) add to its garbage collections. MODE `exporter` is the exporter
// wired by createExporter in push mode with at most CALLS calls, its real HTTP app; MODE `bare` reads each body and
// JSON.parse's it behind node:http. Besides what every server child answers (server-child.ts), 'streams' gives the
// calls and streams the exporter holds.
import type { RequestListener } from 'node:http';
import { benchConfig, benchExporter } from './exporter.ts';
import { serveForParent } from './server-child.ts';

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
const streams = (): { calls: number; streams: number } => ({
  calls: exporter?.store.size ?? 0,
  streams: exporter ? [...exporter.store.calls()].reduce((n, c) => n + c.streams.size, 0) : 0,
});
serveForParent(exporter?.app ?? bare, { streams }, exporter && (() => exporter.stop()));
