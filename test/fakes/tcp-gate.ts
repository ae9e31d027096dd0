/**
 * A switchable TCP gate on 127.0.0.1 in front of a fake server: while closed, nothing listens on its port
 * (connections are refused, as when a venue is down); opened, it listens on the same port and pipes each
 * connection to the target. `close()` also cuts the connections in flight.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpGate {
  readonly port: number;
  /** `http://127.0.0.1:<port>` and `ws://127.0.0.1:<port>` with the target's path. */
  url(scheme: 'http' | 'ws', path?: string): string;
  open(): Promise<void>;
  close(): Promise<void>;
}

/** A port nothing listens on now (bound, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function createTcpGate(targetPort: number): Promise<TcpGate> {
  const port = await freePort();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    port,
    url: (scheme, path = '') => `${scheme}://127.0.0.1:${port}${path}`,
    async open() {
      if (server) return;
      const s = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
        for (const x of [client, upstream]) {
          sockets.add(x);
          x.on('close', () => sockets.delete(x));
          x.on('error', () => x.destroy());
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    async close() {
      const s = server;
      server = undefined;
      for (const x of sockets) x.destroy();
      sockets.clear();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
