import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedKept, writeBigStateFile } from './big-state-file.ts';
import type { BigStateFile } from './big-state-file.ts';

const HEAP_MB = 32;
const KEEP = 2000;
const NOW = Date.UTC(2024, 0, 1);
const storeUrl = new URL('../../../src/store/sample-store.ts', import.meta.url).href;
const saverUrl = new URL('../../../src/store/state-saver.ts', import.meta.url).href;

// The real loader in a process whose heap is smaller than the file: StateSaver.load() into a store capped at KEEP
// removed calls; prints the SIDs it kept and the load's log line.
const CHILD = `
  const { SampleStore } = await import(${JSON.stringify(storeUrl)});
  const { StateSaver } = await import(${JSON.stringify(saverUrl)});
  const { pino } = await import('pino');
  const [path, keep, now] = process.argv.slice(1);
  const lines = [];
  const logger = pino({ level: 'info' }, { write: (l) => void lines.push(JSON.parse(l)) });
  const store = new SampleStore({ backfill: false, maxParked: Number(keep), now: () => Number(now) });
  const restored = new StateSaver({ path, flushIntervalMs: 60000, store, logger, now: () => Number(now) }).load();
  const sids = [...store.entries()].map((e) => e.call.callSid).sort();
  process.stdout.write(JSON.stringify({ restored, sids, log: lines.map(({ msg, calls, dropped }) => ({ msg, calls, dropped })) }));
`;


interface Loaded {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly out?: { readonly restored: number; readonly sids: string[]; readonly log: unknown[] };
}

function loadInSmallHeap(path: string): Promise<Loaded> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--input-type=module', '-e', CHILD, path, String(KEEP), String(NOW)], {
    cwd: new URL('../../..', import.meta.url).pathname,
    timeout: 40_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status, signal) => {
      done({ status, signal, stderr, ...(status === 0 && { out: JSON.parse(stdout) as Loaded['out'] }) });
    });
  });
}

// Regression test (outside probe): loading the state file took about 7x its size in memory: a 249 MB file ran out of a
// 1 GB heap on every start (a crash loop), a 62 MB one out of a 300 MB heap. Loading must cost the caps' worth of
// calls plus one line, whatever the file's size.
describe('state file load memory', () => {
  for (const version of [1, 2] as const) {
    // Both versions at once, each in its own process: together they take about as long as one.
    it.concurrent(`a version ${version} file larger than the heap is read in it: ${version === 2 ? "the caps' worth of calls kept" : 'refused as another version'}`, { timeout: 60_000 }, async ({ onTestFinished }) => {
      // Removed by this test alone: the tests run at once, and one may end while the other still reads.
      const dir = mkdtempSync(join(tmpdir(), 'tie-state-mem-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'state.json');
      const spec: BigStateFile = { calls: 13_000, nowMs: NOW, liveEvery: 100, version };
      const size = writeBigStateFile(path, spec);
      expect(size).toBeGreaterThan(1.2 * HEAP_MB * 1024 * 1024);

      const r = await loadInSmallHeap(path);
      expect(r, `the loader died: ${r.signal ?? r.status}\n${r.stderr}`).toMatchObject({ status: 0 });
      if (version === 1) {
        // One document, so one line far past the line bound: named by its start, never read whole.
        expect(r.out!.restored).toBe(0);
        expect(r.out!.log).toEqual([{ msg: 'state file not usable; starting fresh (samples since the last run may be counted again)' }]);
        return;
      }
      expect(r.out!.restored).toBe(KEEP);
      expect(r.out!.sids).toEqual(expectedKept(spec, KEEP));
      expect(r.out!.log).toEqual([{ msg: 'state file loaded: calls resume where they stopped', calls: KEEP, dropped: spec.calls - KEEP }]);
    });
  }
});
