import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago, for a child process that must be told its port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const addr = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}
