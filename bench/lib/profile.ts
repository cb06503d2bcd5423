import { Session } from 'node:inspector/promises';

/** How to name a profiled frame's file in the summary (e.g. fold a bench loop into what it calls). */
export type FileLabel = (url: string) => string | undefined;

function shortFile(url: string): string {
  if (url === '') return '(native/vm)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+\/.*)$/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.startsWith('node:internal/deps/undici') ? 'undici (bundled)' : 'node: core';
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

/**
 * Samples this process's CPU while `work` runs and summarises self time by file and by function.
 * Time outside JavaScript that V8 cannot attribute ((program), (idle)) and the profiler's own frames are left out.
 */
export async function profile(work: () => Promise<void> | void, label: FileLabel = () => undefined, top = 12): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  await work();
  const { profile: prof } = await session.post('Profiler.stop');
  session.disconnect();
  const us = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) us.set(samples[i]!, (us.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const t = us.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (t === 0 || functionName === '(idle)' || functionName === '(program)' || url.startsWith('node:inspector')) continue;
    total += t;
    const file = label(url) ?? shortFile(url);
    const fn = label(url) ?? `${functionName || '(anonymous)'} ${shortFile(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFile.set(file, (byFile.get(file) ?? 0) + t);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
  }
  const rank = (m: Map<string, number>): string[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
  return ['self time by file:', ...rank(byFile), 'self time by function:', ...rank(byFunction)];
}
