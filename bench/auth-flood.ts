// Benchmark 6: authenticated /metrics latency while clients without credentials flood basic auth with wrong
// passwords (issue 11 item 2). The exporter's guard (bcrypt on a worker pool, capped, cached) against the guard it
// replaced (bcrypt.compareSync on the event loop), each measured idle and under the same bounded flood.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { createExporter } from '../src/exporter.ts';
import type { Exporter } from '../src/exporter.ts';
import { benchConfig } from './lib/exporter.ts';
import { addCalls, templateSamples } from './lib/series.ts';
import { log, quantile, sleep } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

// Cost 10 is what `htpasswd -nBC 10` gives and what the issue measured (about 75 ms per attempt).
const COST = 10;
const USER = 'prometheus';
const PASSWORD = 'scrape-pass';
// The issue's probe: wrong passwords at concurrency 10, half for a real user, half for unknown ones.
const FLOOD_CONCURRENCY = 10;
// Bounds of one measured phase: at most this many scrapes, or this long, whichever comes first.
const SCRAPES = 200;
const PHASE_MS = 15_000;
const CALLS = 200;

// Loops wrong-password requests until killed or FLOOD_MS passes; prints status counts as JSON. Plain JS, so
// it runs in a bare `node -e` child and never shares the exporter's event loop.
const FLOOD_SCRIPT = `
const url = process.env.FLOOD_URL, n = Number(process.env.FLOOD_CONCURRENCY), until = Date.now() + Number(process.env.FLOOD_MS);
const counts = {};
const auth = (i) => 'Basic ' + Buffer.from((i % 2 ? 'prometheus' : 'user' + i) + ':wrong' + i).toString('base64');
async function loop(w) {
  for (let i = w; Date.now() < until; i += n) {
    try { const r = await fetch(url, { headers: { authorization: auth(i) } }); await r.arrayBuffer(); counts[r.status] = (counts[r.status] ?? 0) + 1; }
    catch { counts.error = (counts.error ?? 0) + 1; }
  }
}
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify(counts)); process.exit(0); });
await Promise.all(Array.from({ length: n }, (_, w) => loop(w)));
process.stdout.write(JSON.stringify(counts));
`;

interface Flood {
  stop(): Promise<Record<string, number>>;
}

function startFlood(url: string): Flood {
  const child = spawn(process.execPath, ['--input-type=module', '-e', FLOOD_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FLOOD_URL: url, FLOOD_CONCURRENCY: String(FLOOD_CONCURRENCY), FLOOD_MS: String(PHASE_MS + 10_000) },
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  return {
    async stop() {
      const closed = once(child, 'close');
      child.kill('SIGTERM');
      await closed;
      return out === '' ? {} : (JSON.parse(out) as Record<string, number>);
    },
  };
}

// The guard this exporter had before: one synchronous bcrypt comparison per uncached attempt, on the event loop.
function compareSyncGuard(hash: string, app: RequestListener): RequestListener {
  const good = new Set<string>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers.authorization ?? '';
    const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? '' : decoded.slice(0, colon);
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    const key = createHash('sha256').update(`${user}\0${password}`).digest('hex');
    if (user === USER && (good.has(key) || bcrypt.compareSync(password, hash))) {
      good.add(key);
      app(req, res);
      return;
    }
    res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized\n');
  };
}

// Sequential authenticated scrapes; returns each one's latency in ms.
async function scrapes(url: string, agent: Agent, until: number): Promise<number[]> {
  const headers = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  const out: number[] = [];
  while (out.length < SCRAPES && Date.now() < until) {
    const t0 = performance.now();
    const r = await request(url, { dispatcher: agent, headers });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`authenticated scrape got ${r.statusCode}`);
    out.push(performance.now() - t0);
  }
  return out;
}

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${addr.port}/metrics` };
}

interface Phases {
  idleP99: number;
  floodP99: number;
  floodScrapes: number;
  flood: Record<string, number>;
}

async function measure(name: string, handler: RequestListener): Promise<Phases> {
  const { server, url } = await listen(handler);
  const agent = new Agent({ connections: 1 });
  try {
    await scrapes(url, agent, Date.now() + PHASE_MS); // warm-up, and the one bcrypt comparison that fills the cache
    const idle = await scrapes(url, agent, Date.now() + PHASE_MS);
    const flood = startFlood(url);
    await sleep(1000);
    const flooded = await scrapes(url, agent, Date.now() + PHASE_MS);
    const counts = await flood.stop();
    const r = { idleP99: quantile(idle, 0.99), floodP99: quantile(flooded, 0.99), floodScrapes: flooded.length, flood: counts };
    log(`${name}: idle p99 ${r.idleP99.toFixed(1)} ms (${idle.length}), flood p99 ${r.floodP99.toFixed(1)} ms (${flooded.length} scrapes), flood answers ${JSON.stringify(counts)}`);
    return r;
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
  }
}

function exporterWith(hash: string | undefined): Exporter {
  const config = benchConfig('http://127.0.0.1:9', { max_calls: CALLS });
  return createExporter({ config, logger: pino({ level: 'silent' }), ...(hash !== undefined && { webConfig: { users: new Map([[USER, hash]]) } }) });
}

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'auth-flood';
  const hash = bcrypt.hashSync(PASSWORD, COST);
  const template = await templateSamples();
  const guarded = exporterWith(hash);
  const plain = exporterWith(undefined);
  for (const e of [guarded, plain]) addCalls(e, 0, CALLS, template);
  try {
    const now = await measure('worker pool guard', guarded.app);
    const old = await measure('compareSync guard', compareSyncGuard(hash, plain.app));
    const rows: Row[] = [
      { bench, name: `/metrics p99 under a wrong-password flood (x${FLOOD_CONCURRENCY}) / idle p99`, exporter: now.floodP99, baseline: now.idleP99, unit: 'ms', ratio: now.floodP99 / now.idleP99, goal: 'ratio < 10', pass: now.floodP99 / now.idleP99 < 10 },
      { bench, name: 'same, with the old compareSync guard', exporter: old.floodP99, baseline: old.idleP99, unit: 'ms', ratio: old.floodP99 / old.idleP99, goal: 'none (reported)' },
      { bench, name: 'wrong-password attempts answered during the flood phase, pool guard', exporter: Object.values(now.flood).reduce((a, b) => a + b, 0), unit: 'req', goal: 'none (reported)' },
      { bench, name: 'wrong-password attempts answered during the flood phase, compareSync guard', exporter: Object.values(old.flood).reduce((a, b) => a + b, 0), unit: 'req', goal: 'none (reported)' },
    ];
    return rows;
  } finally {
    await Promise.all([guarded.stop(), plain.stop()]);
  }
}
