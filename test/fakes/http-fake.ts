/**
 * A local fake HTTP server (127.0.0.1, port 0) for transport and adapter tests. Routes answer recorded payloads;
 * `script()` queues one-off replies in front of a route (429 with Retry-After, 500, slow answers, dropped
 * connections, malformed JSON) so a test can walk a client through failures and back to a good answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  json<T = unknown>(): T;
}

export interface FakeReply {
  /** Default 200. */
  readonly status?: number;
  /** Serialized as JSON unless `raw` is given. */
  readonly body?: unknown;
  /** Sent exactly as written (malformed JSON, HTML error pages). */
  readonly raw?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering (a slow server). */
  readonly delayMs?: number;
  /** Destroy the socket without answering (a dropped connection). */
  readonly drop?: boolean;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface HttpFake {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: FakeRequest[];
  /** Sets the standing answer for `method path` (`*` matches any path). */
  route(method: string, path: string, handler: FakeHandler | FakeReply): void;
  /** Queues one-off replies, used before the route for the next matching requests (`*` = any path). */
  script(method: string, path: string, replies: readonly FakeReply[]): void;
  /** Requests received for `method path`. */
  count(method: string, path: string): number;
  close(): Promise<void>;
}

const key = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;

export async function startHttpFake(): Promise<HttpFake> {
  const routes = new Map<string, FakeHandler>();
  const scripts = new Map<string, FakeReply[]>();
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const pickScript = (method: string, path: string): FakeReply | undefined => {
    for (const k of [key(method, path), key(method, '*')]) {
      const q = scripts.get(k);
      if (q && q.length > 0) return q.shift();
    }
    return undefined;
  };

  const send = (res: ServerResponse, reply: FakeReply): void => {
    // the client may have given up (timeout) while a slow handler ran
    if (res.destroyed || res.writableEnded) return;
    if (reply.drop) {
      res.socket?.destroy();
      return;
    }
    const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      const fr: FakeRequest = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      };
      requests.push(fr);
      const scripted = pickScript(fr.method, fr.path);
      const handler = routes.get(key(fr.method, fr.path)) ?? routes.get(key(fr.method, '*'));
      Promise.resolve(
        scripted ??
          (handler ? handler(fr) : { status: 404, body: { error: `no route ${fr.method} ${fr.path}` } }),
      ).then(
        (reply) => {
          if (reply.delayMs && reply.delayMs > 0) {
            const t = setTimeout(() => {
              timers.delete(t);
              if (!res.destroyed) send(res, reply);
            }, reply.delayMs);
            timers.add(t);
          } else send(res, reply);
        },
        (err: unknown) => send(res, { status: 500, body: { error: String(err) } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    route(method, path, handler) {
      routes.set(key(method, path), typeof handler === 'function' ? handler : () => handler);
    },
    script(method, path, replies) {
      const k = key(method, path);
      scripts.set(k, [...(scripts.get(k) ?? []), ...replies]);
    },
    count: (method, path) =>
      requests.filter((r) => r.method === method.toUpperCase() && r.path === path).length,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
