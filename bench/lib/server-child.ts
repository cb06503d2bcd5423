// A server under measurement in a child process of its own, and the bench process that drives it. The child listens
// on 127.0.0.1 (a free port, printed on stdout as its first line) and answers on the IPC channel: 'cpu' with its CPU
// ms so far, 'collect' after a full collection (it needs --expose-gc, which fork passes on from a bench child), and
// any message its caller adds. It exits when the parent disconnects.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collect, cpuMs } from './stats.ts';

/** In the child: serves `listener` and answers the parent; `stop` runs before the process exits. */
export function serveForParent(listener: RequestListener, answers: Readonly<Record<string, () => unknown>> = {}, stop?: () => Promise<void>): void {
  const server = createServer({ keepAliveTimeout: 30_000 }, listener);
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('message', (m) => {
    if (m === 'cpu') process.send?.(cpuMs());
    else if (m === 'collect') {
      collect();
      process.send?.('collected');
    } else if (typeof m === 'string' && Object.hasOwn(answers, m)) process.send?.(answers[m]!());
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close();
    void (stop?.() ?? Promise.resolve()).then(() => process.exit(0));
  });
}

/** A server child started by the bench process. */
export interface ServerChild {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
}

/** In the bench process: forks the child script at `path` with `args`, once it listens. */
export async function startServerChild(path: string, args: readonly string[]): Promise<ServerChild> {
  const child = fork(path, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, base: `http://127.0.0.1:${Number(line.toString().trim())}` };
}

/** Sends `message` to a server child and resolves with its answer. */
export async function ask<T>(s: ServerChild, message: string): Promise<T> {
  const answer = once(s.child, 'message');
  s.child.send(message);
  return (await answer)[0] as T;
}
