/**
 * A minimal pipelining Redis connection for the bus's write path and its reader: commands go out pre-encoded as one
 * RESP string per batch, replies are counted back. It exists because a general client spends far more per command
 * (an object, a promise, argument conversion, a reply transformer) than Redis spends on an XADD or a small
 * XREADGROUP; here a publish costs a string concatenation, and a read round one write and one promise.
 *
 * Reconnects with backoff; a batch in flight when the connection drops fails, and the bus re-sends it. On every
 * reconnect, `onReconnect`'s commands (the bus's consumer groups, re-created) go out first, before anything waiting:
 * a Redis that restarted without its data gets the groups back before our next write lands in a new stream.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from '../log.ts';

export type Reply = string | number | null | Error | Reply[];

/** Pre-encoded commands: a string, a buffer, or several of them written back to back. */
export type Payload = string | Buffer | readonly (string | Buffer)[];

/** Bursts up to this size are copied out of a RespBuffer (Node's buffer pool serves them) rather than handed over. */
const SMALL_TAKE = 4 * 1024;

/**
 * A growing byte buffer that RESP-encodes arguments in place: no intermediate strings to flatten and re-encode,
 * which is most of the cost of a publish otherwise.
 */
export class RespBuffer {
  private buf: Buffer;
  private len = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** Appends bytes already encoded (a command's constant start). */
  raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** Appends one RESP bulk string. */
  bulk(s: string): void {
    const n = Buffer.byteLength(s);
    const head = `$${n}\r\n`;
    this.ensure(head.length + n + 2);
    this.len += this.buf.write(head, this.len, 'latin1');
    this.len += this.buf.write(s, this.len, 'utf8');
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Appends text already RESP-encoded (commands made by encodeCommand). */
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** Appends the header of a command of `n` arguments (its arguments follow as bulk strings). */
  command(n: number): void {
    const head = `*${n}\r\n`;
    this.ensure(head.length);
    this.len += this.buf.write(head, this.len, 'latin1');
  }

  /** Hands over what was written and starts afresh. */
  take(): Buffer {
    // a small burst (one message's worth, the steady state) is copied out and the buffer kept: a fresh buffer of
    // `initial` bytes per burst is an allocation outside the heap per message, which drives the GC
    if (this.len <= SMALL_TAKE) {
      const out = Buffer.allocUnsafe(this.len);
      this.buf.copy(out, 0, 0, this.len);
      this.len = 0;
      return out;
    }
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(Math.max(this.initial, Math.min(this.len, 16 * 1024 * 1024)));
    this.len = 0;
    return out;
  }
}

interface Request {
  count: number;
  replies: Reply[];
  resolve: (r: Reply[]) => void;
  reject: (e: Error) => void;
}

const CRLF = '\r\n';
/** The payload of a request whose commands went out in the request's before it. */
const EMPTY_PAYLOAD = Buffer.alloc(0);

/** RESP encoding of one command. */
export function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}${CRLF}`;
  for (const a of args) s += `$${Buffer.byteLength(a)}${CRLF}${a}${CRLF}`;
  return s;
}

/** RESP encoding of one argument. */
export const bulk = (a: string): string => `$${Buffer.byteLength(a)}${CRLF}${a}${CRLF}`;

export class RespWriter {
  private socket: Socket | undefined;
  private connected = false;
  private closed = false;
  private attempts = 0;
  private readonly pending: Request[] = [];
  private waiting: { payload: Payload; req: Request }[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private readonly host: string;
  private readonly port: number;
  /** unix:// URL: the socket's path (no TCP). */
  private readonly path: string | undefined;
  private readonly tls: boolean;
  private readonly user: string;
  private readonly password: string;
  private readonly db: number;
  private lastLogged = 0;
  private everReady = false;
  private readonly execBuf = new RespBuffer(4 * 1024);
  /** Commands to send first on a reconnect (replies not looked at); set by the owner. */
  onReconnect: (() => { payload: string; count: number } | undefined) | undefined;
  /** Called each time the connection is ready for commands (`first`: the first time); set by the owner. */
  onReady: ((first: boolean) => void) | undefined;
  /** Called when the connection dropped (the requests in flight have failed); set by the owner. */
  onClose: (() => void) | undefined;

  /**
   * @param keepBulk false: bulk-string replies come back as '' (when only errors and counts matter)
   * @param name the connection's name (CLIENT SETNAME), so CLIENT LIST tells processes apart
   */
  constructor(
    url: string,
    private readonly log?: Logger,
    private readonly keepBulk = true,
    private readonly name?: string,
  ) {
    const u = new URL(url);
    this.path = u.protocol === 'unix:' ? decodeURIComponent(u.pathname) : undefined;
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port || 6379);
    this.tls = u.protocol === 'rediss:';
    this.user =
      this.path !== undefined ? (u.searchParams.get('username') ?? '') : decodeURIComponent(u.username);
    this.password =
      this.path !== undefined ? (u.searchParams.get('password') ?? '') : decodeURIComponent(u.password);
    this.db =
      this.path !== undefined ? Number(u.searchParams.get('db') || 0) : Number(u.pathname.slice(1) || 0);
    this.connect();
  }

  /** Sends `count` pre-encoded commands; resolves with their replies (errors as Error values). */
  send(payload: Payload, count: number): Promise<Reply[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('writer closed'));
        return;
      }
      const req: Request = { count, replies: [], resolve, reject };
      if (!this.connected) {
        this.waiting.push({ payload, req });
        return;
      }
      this.pending.push(req);
      this.write(this.socket!, payload);
    });
  }

  /** Sends commands given as argument lists in one write; resolves with their replies (errors as Error values). */
  exec(commands: readonly (readonly (string | number)[])[]): Promise<Reply[]> {
    // encoded straight into bytes: no string per argument to concatenate and then encode again for the socket
    const b = this.execBuf;
    for (const c of commands) {
      b.command(c.length);
      for (const a of c) b.bulk(typeof a === 'string' ? a : String(a));
    }
    return this.send(b.take(), commands.length);
  }

  /** Connected and ready for commands (a send now is written now, not queued for a reconnect). */
  get isReady(): boolean {
    return this.connected;
  }

  /**
   * exec(), with `tail` (pre-encoded commands: the bus's acks) behind the commands in the same buffer: one plain socket
   * write for both (not a writev of two parts, dearer in Node and the kernel). The tail's replies settle `tail.done`.
   */
  execWithTail(
    commands: readonly (readonly (string | number)[])[],
    tail: { readonly payload: string; readonly count: number; done(ok: boolean): void },
  ): Promise<Reply[]> {
    const b = this.execBuf;
    for (const c of commands) {
      b.command(c.length);
      for (const a of c) b.bulk(typeof a === 'string' ? a : String(a));
    }
    b.text(tail.payload);
    const payload = b.take();
    return new Promise((resolve, reject) => {
      const head: Request = { count: commands.length, replies: [], resolve, reject };
      const t: Request = {
        count: tail.count,
        replies: [],
        resolve: () => tail.done(true),
        reject: () => tail.done(false),
      };
      if (this.closed) {
        reject(new Error('writer closed'));
        tail.done(false);
      } else if (!this.connected) {
        // written on the reconnect, in this order (the tail's bytes are in the first payload)
        this.waiting.push({ payload, req: head }, { payload: EMPTY_PAYLOAD, req: t });
      } else {
        this.pending.push(head, t);
        this.socket!.write(payload);
      }
    });
  }

  private write(s: Socket, payload: Payload): void {
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      if (payload.length > 0) s.write(payload as Buffer);
      return;
    }
    s.cork();
    for (const part of payload) if (part.length > 0) s.write(part as Buffer);
    s.uncork();
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.socket;
    this.fail(new Error('writer closed'));
    if (s && !s.destroyed) {
      await new Promise<void>((r) => {
        s.once('close', () => r());
        s.end();
        setTimeout(() => s.destroy(), 500).unref();
      });
    }
  }

  private connect(): void {
    if (this.closed) return;
    const s = this.tls
      ? tlsConnect({ host: this.host, port: this.port, servername: this.host })
      : this.path !== undefined
        ? netConnect({ path: this.path })
        : netConnect({ host: this.host, port: this.port });
    if (this.path === undefined) s.setNoDelay(true);
    this.socket = s;
    this.buf = Buffer.alloc(0);
    s.once(this.tls ? 'secureConnect' : 'connect', () => {
      const hello: string[] = [];
      if (this.password) {
        hello.push(encodeCommand(this.user ? ['AUTH', this.user, this.password] : ['AUTH', this.password]));
      }
      if (this.db) hello.push(encodeCommand(['SELECT', String(this.db)]));
      if (this.name) hello.push(encodeCommand(['CLIENT', 'SETNAME', this.name]));
      const ready = (): void => {
        this.connected = true;
        this.attempts = 0;
        const again = this.everReady;
        const first = again ? this.onReconnect?.() : undefined;
        this.everReady = true;
        if (first && first.count > 0) {
          this.pending.push({ count: first.count, replies: [], resolve: () => {}, reject: () => {} });
          this.write(s, first.payload);
        }
        const w = this.waiting;
        this.waiting = [];
        for (const { payload, req } of w) {
          this.pending.push(req);
          this.write(s, payload);
        }
        this.onReady?.(!again);
      };
      if (hello.length === 0) {
        ready();
        return;
      }
      this.pending.push({
        count: hello.length,
        replies: [],
        resolve: (rs) => {
          // AUTH or SELECT refused: no use going on; a refused CLIENT SETNAME (last, if any) only loses the name
          const err = rs.slice(0, this.name ? -1 : undefined).find((r) => r instanceof Error);
          if (err) {
            this.warn(err as Error);
            s.destroy();
          } else ready();
        },
        reject: () => {},
      });
      s.write(hello.join(''));
    });
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', (err) => this.warn(err));
    s.on('close', () => {
      this.connected = false;
      this.fail(new Error('connection to Redis lost'));
      this.onClose?.();
      if (this.closed) return;
      const delay = Math.min(50 * ++this.attempts, 500);
      setTimeout(() => this.connect(), delay);
    });
  }

  private warn(err: Error): void {
    const now = Date.now();
    if (now - this.lastLogged < 5_000) return;
    this.lastLogged = now;
    this.log?.warn(
      { connection: this.name ?? 'writer', err: `${err.name}: ${err.message}` },
      'redis connection error (retrying)',
    );
  }

  /** Fails every request in flight (their outcome is unknown; the caller re-sends). */
  private fail(err: Error): void {
    const reqs = this.pending.splice(0);
    for (const r of reqs) r.reject(err);
    if (this.closed) {
      const w = this.waiting;
      this.waiting = [];
      for (const { req } of w) req.reject(err);
    }
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let pos = 0;
    for (;;) {
      let r: { value: Reply; end: number } | undefined;
      try {
        // a large reply arrives over many reads: its strings are made once, when all of it is here
        if (skip(this.buf, pos) < 0) break;
        r = parse(this.buf, pos, this.keepBulk);
      } catch (err) {
        this.warn(err as Error);
        this.socket?.destroy(); // out of step with the server: start over on a fresh connection
        return;
      }
      if (!r) break;
      pos = r.end;
      const head = this.pending[0];
      if (!head) continue; // nothing expected (cannot happen with a well-behaved server)
      head.replies.push(r.value);
      if (head.replies.length === head.count) {
        this.pending.shift();
        head.resolve(head.replies);
      }
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }
}

/** Index of the CR of the next CRLF from `from`, or -1; numbers and short lines are scanned by hand. */
function lineEnd(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length - 1; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** Integer in ASCII between `from` and `to` (RESP lengths and integers). */
function int(buf: Buffer, from: number, to: number): number {
  let i = from;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < to; i++) n = n * 10 + (buf[i]! - 48);
  return neg ? -n : n;
}

/** The end of the RESP2 reply at `pos`, or -1 when the buffer does not hold all of it yet (allocates nothing). */
function skip(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = lineEnd(buf, pos);
  if (nl < 0) return -1;
  const next = nl + 2;
  const type = buf[pos];
  if (type === 0x24) {
    const len = int(buf, pos + 1, nl);
    if (len < 0) return next;
    return buf.length < next + len + 2 ? -1 : next + len + 2;
  }
  if (type === 0x2a) {
    const n = int(buf, pos + 1, nl);
    let p = next;
    for (let i = 0; i < n && p >= 0; i++) p = skip(buf, p);
    return p;
  }
  return next;
}

/** Parses one RESP2 reply at `pos`; undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, pos: number, keepBulk = true): { value: Reply; end: number } | undefined {
  if (pos >= buf.length) return undefined;
  const type = buf[pos];
  const nl = type === 0x2b || type === 0x2d ? buf.indexOf(CRLF, pos) : lineEnd(buf, pos);
  if (nl < 0) return undefined;
  const next = nl + 2;
  switch (type) {
    case 0x2b: // +
      return { value: buf.toString('utf8', pos + 1, nl), end: next };
    case 0x2d: // -
      return { value: new Error(buf.toString('utf8', pos + 1, nl)), end: next };
    case 0x3a: // :
      return { value: int(buf, pos + 1, nl), end: next };
    case 0x24: {
      // $
      const len = int(buf, pos + 1, nl);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      // the bus never reads what an XADD returns: skip making a string of it
      return { value: keepBulk ? buf.toString('utf8', next, next + len) : '', end: next + len + 2 };
    }
    case 0x2a: {
      // *
      const n = int(buf, pos + 1, nl);
      if (n < 0) return { value: null, end: next };
      const out: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p, keepBulk);
        if (!r) return undefined;
        out.push(r.value);
        p = r.end;
      }
      return { value: out, end: p };
    }
    default:
      throw new Error(`unexpected RESP reply type ${String.fromCharCode(type ?? 0)}`);
  }
}
