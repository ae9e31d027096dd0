/**
 * A local fake websocket server (ws on 127.0.0.1, port 0) for feed tests. It records what clients send, replays
 * recorded frames, answers a text heartbeat (PING → PONG) unless told to be silent, and can drop connections,
 * refuse new ones, send malformed JSON or go quiet. `waitFor` polls a condition (no fixed sleeps in tests).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface WsFakeConnection {
  readonly id: number;
  /** Text messages received from the client, in order. */
  readonly received: string[];
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket: WebSocket;
  /** Sends text as is, objects (and arrays) as JSON. */
  send(msg: string | object): void;
  /** Kills the TCP connection without a close frame. */
  drop(): void;
  close(code?: number, reason?: string): void;
  readonly open: boolean;
}

export interface WsFakeOptions {
  /** Text heartbeat answered with a reply (default PING → PONG); null disables. */
  readonly textHeartbeat?: { readonly ping: string; readonly pong: string } | null;
}

export interface WsFake {
  readonly url: string;
  readonly port: number;
  /** Every connection ever accepted, in order. */
  readonly connections: WsFakeConnection[];
  /** Connections still open. */
  openConnections(): WsFakeConnection[];
  /** Runs on each new connection (after it is recorded). */
  onConnection(fn: (conn: WsFakeConnection) => void): void;
  /** Runs on each text message from a client (heartbeats included). */
  onMessage(fn: (conn: WsFakeConnection, text: string) => void): void;
  /** Sends to every open connection. */
  broadcast(msg: string | object): void;
  /** Drops every open connection. */
  dropAll(): void;
  /** While silent the server sends nothing at all, not even heartbeat replies. */
  setSilent(silent: boolean): void;
  /** While refusing, upgrade requests are answered 503. */
  setRefusing(refusing: boolean): void;
  /** Resolves with the n-th connection (1-based) once it exists. */
  waitForConnection(n: number, timeoutMs?: number): Promise<WsFakeConnection>;
  close(): Promise<void>;
}

/** Polls `cond` every 5 ms until it holds (or throws after `timeoutMs`). */
export async function waitFor<T>(
  cond: () => T | undefined | false | null,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startWsFake(opts: WsFakeOptions = {}): Promise<WsFake> {
  const hb = opts.textHeartbeat === undefined ? { ping: 'PING', pong: 'PONG' } : opts.textHeartbeat;
  const connections: WsFakeConnection[] = [];
  const connHandlers: Array<(c: WsFakeConnection) => void> = [];
  const msgHandlers: Array<(c: WsFakeConnection, t: string) => void> = [];
  let silent = false;
  let refusing = false;

  const http: Server = createServer((_req, res) => {
    res.writeHead(426);
    res.end('upgrade required');
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    if (refusing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: WsFakeConnection = {
        id: connections.length + 1,
        received: [],
        path: req.url ?? '/',
        headers: req.headers,
        socket: ws,
        send(msg) {
          if (silent || ws.readyState !== ws.OPEN) return;
          ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
        },
        drop: () => ws.terminate(),
        close: (code = 1000, reason = '') => ws.close(code, reason),
        get open() {
          return ws.readyState === ws.OPEN;
        },
      };
      connections.push(conn);
      ws.on('message', (data) => {
        const text = data.toString();
        conn.received.push(text);
        if (hb && text === hb.ping && !silent) ws.send(hb.pong);
        for (const h of msgHandlers) h(conn, text);
      });
      ws.on('error', () => {});
      for (const h of connHandlers) h(conn);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const openConnections = () => connections.filter((c) => c.open);

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    connections,
    openConnections,
    onConnection: (fn) => connHandlers.push(fn),
    onMessage: (fn) => msgHandlers.push(fn),
    broadcast(msg) {
      for (const c of openConnections()) c.send(msg);
    },
    dropAll() {
      for (const c of openConnections()) c.drop();
    },
    setSilent: (s) => {
      silent = s;
    },
    setRefusing: (r) => {
      refusing = r;
    },
    waitForConnection: (n, timeoutMs = 5_000) =>
      waitFor(() => connections[n - 1], timeoutMs, `websocket connection #${n}`),
    close: async () => {
      for (const c of connections) c.socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
