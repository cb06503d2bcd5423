// Server CPU per real `GET /metrics` over HTTP, for the checkouts given, scraped in turn in the same run: each
// checkout's exporter (N client calls, 3 streams each) runs in a child process and reads its own CPU before and
// after each scrape. It counts everything a scrape costs the exporter (render, encoding, express, the socket), so it
// compares an older checkout whose render returned a string with one that returns bytes on the same work:
//   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   taskset -c 0 npx node bench/scrape-http-compare.ts 1000 60 /tmp/before "$PWD"
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, startServerChild } from './lib/server-child.ts';
import type { ServerChild } from './lib/server-child.ts';
import { median } from './lib/stats.ts';

const [callsText, scrapesText, ...rootArgs] = process.argv.slice(2);
const calls = Number(callsText);
const scrapes = Number(scrapesText);
if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(scrapes) || scrapes < 1 || rootArgs.length === 0) {
  throw new Error('usage: scrape-http-compare.ts CALLS SCRAPES ROOT [ROOT ...]');
}

interface Server {
  readonly root: string;
  readonly server: ServerChild;
  readonly cpu: number[];
  bytes: number;
}

const serverPath = fileURLToPath(new URL('./lib/scrape-server.ts', import.meta.url));
const servers: Server[] = [];
for (const root of rootArgs.map((r) => resolve(r))) {
  servers.push({ root, server: await startServerChild(serverPath, [root, String(calls)]), cpu: [], bytes: 0 });
}

async function scrape(s: Server): Promise<number> {
  const before = await ask<number>(s.server, 'cpu');
  const res = await fetch(`${s.server.base}/metrics`);
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${s.root}: GET /metrics answered ${res.status}`);
  s.bytes = body.byteLength;
  return (await ask<number>(s.server, 'cpu')) - before;
}

for (let i = 0; i < 5; i++) for (const s of servers) await scrape(s);
// Rotated, so no checkout always scrapes right after the same other one.
for (let i = 0; i < scrapes; i++) {
  for (let k = 0; k < servers.length; k++) {
    const s = servers[(i + k) % servers.length]!;
    s.cpu.push(await scrape(s));
  }
}
for (const s of servers) {
  process.stdout.write(`${s.root}: ${calls.toLocaleString('en-US')} calls, ${scrapes} scrapes of ${(s.bytes / 1e6).toFixed(2)} MB: server CPU ms per GET /metrics, median ${median(s.cpu).toFixed(2)}\n`);
  s.server.child.disconnect();
}
