/**
 * A reconnecting websocket feed (ws package): the shared plumbing under every venue/oracle stream.
 *
 * - connects, and on every open sends the subscribe messages the caller builds (so a reconnect resubscribes);
 * - heartbeats: application text (Polymarket sends "PING" every 10 s and gets "PONG") or protocol ping frames
 *   (Kalshi, Binance); the server's protocol pings are answered by ws itself;
 * - a silence watchdog: no frame at all for `silenceMs` → the socket is dropped and reopened;
 * - reconnects with exponential backoff and full jitter; the backoff resets once a frame arrives on the new
 *   connection (a server that accepts and immediately drops does not make us spin);
 * - reconnects on schedule before a maximum connection age (Binance cuts connections at 24 h);
 * - delivers every text frame with its receive time from the injected `now()`; health counters for the heartbeat.
 *
 * Real timers drive the plumbing (they are not data); only the stamps on data come from `now()`.
 */
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from './backoff.ts';

export type Heartbeat =
  /** Sends `message` as text every `intervalMs`; frames equal to `reply` are liveness only, not delivered. */
  | { readonly kind: 'text'; readonly intervalMs: number; readonly message: string; readonly reply?: string }
  /** Sends a protocol ping every `intervalMs`. */
  | { readonly kind: 'ping'; readonly intervalMs: number };

export interface WsFeedOptions {
  /** For logs and health. */
  readonly name: string;
  /** Evaluated on every connect (a feed may rotate endpoints or re-sign). */
  readonly url: string | (() => string);
  /** Stamps receive times on frames (epoch ms). */
  readonly now: () => number;
  /** Messages sent on every open; objects are JSON-serialized. */
  readonly subscribe?: () => readonly (string | object)[];
  readonly heartbeat?: Heartbeat;
  /** No frame for this long → reconnect (default 30 s; 0 disables). */
  readonly silenceMs?: number;
  /** Reconnect on schedule before this connection age (default: never). */
  readonly maxConnectionAgeMs?: number;
  readonly backoff?: BackoffOptions;
  /** Handshake timeout, ms (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Headers for the upgrade request, evaluated per connect (signed auth). */
  readonly headers?: () => Record<string, string>;
  readonly onOpen?: (info: { connection: number }) => void;
  readonly onClose?: (info: { code: number; reason: string; cause: CloseCause }) => void;
  readonly onError?: (err: Error) => void;
}

export type CloseCause = 'remote' | 'error' | 'silence' | 'max-age' | 'stopped' | 'manual';

export type FrameHandler = (text: string, receiveTime: number) => void;

export interface WsFeedHealth {
  [k: string]: number | string | boolean | null;
  connected: boolean;
  /** Receive time (injected clock) of the last frame, null before the first. */
  lastMessageAt: number | null;
  /** When the venue was last heard (a frame, a pong or a heartbeat reply; injected clock), null before. */
  lastAliveAt: number | null;
  connects: number;
  reconnects: number;
  silenceReconnects: number;
  ageReconnects: number;
  framesReceived: number;
  framesRejected: number;
  lastError: string | null;
}

/** The feed-health fields every FrameSource reports, from its socket's health (or a socket not yet made). */
export function socketHealth(
  w: WsFeedHealth | undefined,
  now: number,
): {
  connected: boolean;
  lastMessageAgeMs: number | null;
  lastAliveAt: number | null;
  reconnects: number;
  silenceReconnects: number;
  framesReceived: number;
} {
  return {
    connected: w?.connected ?? false,
    lastMessageAgeMs: w?.lastMessageAt != null ? now - w.lastMessageAt : null,
    lastAliveAt: w?.lastAliveAt ?? null,
    reconnects: w?.reconnects ?? 0,
    silenceReconnects: w?.silenceReconnects ?? 0,
    framesReceived: w?.framesReceived ?? 0,
  };
}

export class WsFeed {
  readonly name: string;
  private readonly opts: WsFeedOptions;
  private readonly backoff: Backoff;
  private ws: WebSocket | undefined;
  private onFrame: FrameHandler | undefined;
  private running = false;
  private gotFrameThisConn = false;
  private lastFrameMono = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private pendingCause: CloseCause | undefined;
  private openWaiters: Array<() => void> = [];
  private readonly h: WsFeedHealth = {
    connected: false,
    lastMessageAt: null,
    lastAliveAt: null,
    connects: 0,
    reconnects: 0,
    silenceReconnects: 0,
    ageReconnects: 0,
    framesReceived: 0,
    framesRejected: 0,
    lastError: null,
  };

  constructor(opts: WsFeedOptions) {
    this.name = opts.name;
    this.opts = opts;
    this.backoff = new Backoff({ baseMs: 500, maxMs: 30_000, ...opts.backoff });
  }

  /** Starts connecting; frames go to `onFrame`. Resolves at once (the feed keeps retrying in the background). */
  start(onFrame: FrameHandler): void {
    if (this.running) throw new Error(`${this.name}: already started`);
    this.running = true;
    this.onFrame = onFrame;
    this.connect();
  }

  /** Closes the socket and stops every timer; no reconnect follows. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      this.pendingCause = 'stopped';
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1_000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        try {
          ws.close(1000, 'client stop');
        } catch {
          ws.terminate();
        }
      });
    }
    this.h.connected = false;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Resolves at the next open (or at once if open now). */
  opened(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  /** Sends a text (objects as JSON) if the socket is open; returns whether it was sent. */
  send(msg: string | object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    return true;
  }

  /** Counts a frame that the decoder could not use (for health). */
  rejectFrame(): void {
    this.h.framesRejected++;
  }

  /** Drops the current connection and reconnects at once (e.g. after a detected gap). */
  reconnectNow(): void {
    this.dropConnection('manual');
  }

  health(): WsFeedHealth {
    return { ...this.h };
  }

  private connect(): void {
    if (!this.running) return;
    const url = typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
        headers: this.opts.headers?.(),
        perMessageDeflate: false,
      });
    } catch (e) {
      this.noteError(e);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.pendingCause = undefined;
    this.gotFrameThisConn = false;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('pong', () => this.markAlive());
    ws.on('error', (err) => this.noteError(err));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.h.connected = true;
    this.h.connects++;
    if (this.h.connects > 1) this.h.reconnects++;
    this.lastFrameMono = performance.now();
    for (const m of this.opts.subscribe?.() ?? []) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    const hb = this.opts.heartbeat;
    if (hb) {
      this.heartbeatTimer = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (hb.kind === 'text') ws.send(hb.message);
        else ws.ping();
      }, hb.intervalMs);
    }
    const silence = this.opts.silenceMs ?? 30_000;
    if (silence > 0) {
      const every = Math.max(10, Math.min(1_000, Math.floor(silence / 4)));
      this.watchdogTimer = setInterval(() => {
        if (performance.now() - this.lastFrameMono >= silence) {
          this.h.silenceReconnects++;
          this.dropConnection('silence');
        }
      }, every);
    }
    if (this.opts.maxConnectionAgeMs && this.opts.maxConnectionAgeMs > 0) {
      this.ageTimer = setTimeout(() => {
        this.h.ageReconnects++;
        this.dropConnection('max-age');
      }, this.opts.maxConnectionAgeMs);
    }
    this.opts.onOpen?.({ connection: this.h.connects });
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w();
  }

  private markAlive(): void {
    this.lastFrameMono = performance.now();
    this.h.lastAliveAt = this.opts.now();
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (ws !== this.ws) return;
    const ts = this.opts.now();
    this.markAlive();
    this.h.lastMessageAt = ts;
    if (!this.gotFrameThisConn) {
      this.gotFrameThisConn = true;
      this.backoff.reset();
    }
    let text: string;
    if (typeof data === 'string') text = data;
    else if (Array.isArray(data)) text = Buffer.concat(data).toString('utf8');
    else if (data instanceof ArrayBuffer) text = Buffer.from(data).toString('utf8');
    else text = data.toString('utf8');
    void isBinary;
    const hb = this.opts.heartbeat;
    if (hb?.kind === 'text' && hb.reply !== undefined && text === hb.reply) return;
    this.h.framesReceived++;
    this.onFrame?.(text, ts);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws && this.ws !== undefined) return;
    const cause: CloseCause = this.pendingCause ?? (code === 1006 ? 'error' : 'remote');
    this.clearTimers();
    this.h.connected = false;
    this.ws = undefined;
    this.opts.onClose?.({ code, reason, cause });
    if (!this.running) return;
    // planned drops come back at once; failures wait out the backoff
    this.scheduleReconnect(cause === 'max-age' || cause === 'manual' ? 0 : undefined);
  }

  private dropConnection(cause: CloseCause): void {
    const ws = this.ws;
    if (!ws) return;
    this.pendingCause = cause;
    this.clearTimers();
    ws.terminate();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = delayMs ?? this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.heartbeatTimer = undefined;
    this.watchdogTimer = undefined;
    this.ageTimer = undefined;
  }

  private noteError(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.h.lastError = err.message;
    this.opts.onError?.(err);
  }
}

export function createWsFeed(opts: WsFeedOptions): WsFeed {
  return new WsFeed(opts);
}
