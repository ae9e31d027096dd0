/**
 * A tiny node:http server for the ops routes of a process that has no web server of its own (`pm-arb agent`):
 * GET only, 127.0.0.1 unless told otherwise, port 0 for any free port. Nothing here changes state, so it needs
 * no token; it still binds loopback by default so metrics do not leak.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsHandler } from './health.ts';

export interface OpsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: {
  readonly host: string;
  readonly port: number;
  readonly routes: Readonly<Record<string, OpsHandler>>;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = opts.routes[path];
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path} (try ${Object.keys(opts.routes).join(', ')})\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('method not allowed\n');
      return;
    }
    handler().then(
      (r) => {
        res.writeHead(r.status, r.headers);
        res.end(req.method === 'HEAD' ? undefined : r.body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot serve /metrics on ${opts.host}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}. ` +
        'Set METRICS_PORT to a free port (0 = any), or unset it to turn the ops server off.',
    );
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
