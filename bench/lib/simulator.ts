import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp } from '../../src/simulator/app.ts';
import { Simulator } from '../../src/simulator/simulator.ts';
import type { SimulatorModelOptions } from '../../src/simulator/simulator.ts';

/** An in-process simulator on 127.0.0.1 that also counts the bytes it sends. */
export interface CountingSimulator {
  readonly url: string;
  readonly simulator: Simulator;
  /** Bytes written to every connection so far (headers and bodies). */
  bytesSent(): number;
  close(): Promise<void>;
}

/** Starts the simulator's own app over a server whose sockets are counted. */
export async function startCountingSimulator(options: SimulatorModelOptions): Promise<CountingSimulator> {
  const simulator = new Simulator(options);
  const shutdown = new AbortController();
  const server = createServer(createSimulatorApp(simulator, { shutdown: shutdown.signal }));
  server.keepAliveTimeout = 10_000;
  const live = new Set<Socket>();
  let closedBytes = 0;
  server.on('connection', (socket: Socket) => {
    live.add(socket);
    socket.once('close', () => {
      live.delete(socket);
      closedBytes += socket.bytesWritten;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    simulator,
    bytesSent: () => {
      let n = closedBytes;
      for (const s of live) n += s.bytesWritten;
      return n;
    },
    close: async () => {
      shutdown.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
