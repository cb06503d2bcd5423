// Server CPU per real `GET /metrics` over HTTP, for the checkouts given, scraped in turn in the same run: each
// checkout's exporter (N client calls, 3 streams each) runs in a child process and reads its own CPU before and
// after each scrape. It counts everything a scrape costs the exporter (render, encoding, express, the socket), so it
// compares an older checkout whose render returned a string with one that returns bytes on the same work:
//   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   taskset -c 0 npx node bench/scrape-http-compare.ts 1000 60 /tmp/before "$PWD"
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { median } from './lib/stats.ts';

const [callsText, scrapesText, ...rootArgs] = process.argv.slice(2);
const calls = Number(callsText);
const scrapes = Number(scrapesText);
if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(scrapes) || scrapes < 1 || rootArgs.length === 0) {
  throw new Error('usage: scrape-http-compare.ts CALLS SCRAPES ROOT [ROOT ...]');
}

interface Server {
  readonly root: string;
  readonly child: ChildProcess;
  readonly port: number;
  readonly cpu: number[];
  bytes: number;
}

const servers: Server[] = [];
for (const root of rootArgs.map((r) => resolve(r))) {
  const child = fork(new URL('./lib/scrape-server.ts', import.meta.url).pathname, [root, String(calls)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  servers.push({ root, child, port: Number(line.toString().trim()), cpu: [], bytes: 0 });
}

async function childCpuMs(child: ChildProcess): Promise<number> {
  const answer = once(child, 'message');
  child.send('cpu');
  return (await answer)[0] as number;
}

async function scrape(s: Server): Promise<number> {
  const before = await childCpuMs(s.child);
  const res = await fetch(`http://127.0.0.1:${s.port}/metrics`);
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${s.root}: GET /metrics answered ${res.status}`);
  s.bytes = body.byteLength;
  return (await childCpuMs(s.child)) - before;
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
  s.child.disconnect();
}
