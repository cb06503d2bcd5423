// A load client in its own process, so the server's CPU figures hold the server alone: reads deliveries
// (path, signature, body) from a JSON file and POSTs each once to a base URL over keep-alive, N at a time.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

interface Delivery {
  readonly path: string;
  readonly signature: string;
  readonly body: string;
}

const [base, file, concurrencyText] = process.argv.slice(2);
if (!base || !file) throw new Error('usage: push-client.ts BASE_URL FILE [CONCURRENCY]');
const deliveries = JSON.parse(readFileSync(file, 'utf8')) as Delivery[];
const pool = new Pool(base, { connections: Number(concurrencyText ?? 8), pipelining: 1 });
let next = 0;
let failed = 0;
// What the server says it applied, summed: the bench checks every event was applied, not skipped.
let applied = 0;
async function worker(): Promise<void> {
  while (next < deliveries.length) {
    const d = deliveries[next++]!;
    const res = await pool.request({ method: 'POST', path: d.path, headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body: d.body });
    const answer = (await res.body.json()) as { applied?: unknown };
    if (res.statusCode !== 200) failed++;
    else if (typeof answer.applied === 'number') applied += answer.applied;
  }
}
await Promise.all(Array.from({ length: Number(concurrencyText ?? 8) }, worker));
await pool.close();
process.stdout.write(`${JSON.stringify({ failed, applied })}\n`);
