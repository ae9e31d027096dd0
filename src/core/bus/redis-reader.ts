/**
 * The one blocking reader connection of a Redis bus: every subscription of the process reads through it.
 *
 * Consumer groups differ between subscriptions, and one XREADGROUP names one group, so a single blocking
 * XREADGROUP cannot serve them all. Instead a round pipelines, on this one connection, the tail id of each
 * stream that needs a look (XREVRANGE … COUNT 1) followed by a non-blocking XREADGROUP per waiting subscription
 * of those streams. When none of them got anything, the connection blocks on a plain XREAD of every waiting
 * stream after the tail last read for it (the doorbell): an entry appended after its stream's tail was read wakes
 * it, and one appended in between is either read by the round's XREADGROUP or rings the doorbell at once, so
 * nothing waits for the block timeout. A subscription that asks to read while the doorbell blocks cuts it short
 * with CLIENT UNBLOCK (on the command connection). With a single subscription waiting, its own XREADGROUP blocks
 * instead (one round trip a wave).
 *
 * Behind the doorbell, in the same write, go the reads it is for: one non-blocking XREADGROUP per group (all of
 * that group's waiting streams in one command; per consumer and COUNT). Redis runs them the moment the doorbell
 * rings (or times out, or is cut short), so a wake-up is one round trip, not a ring and then a read.
 *
 * A wake-up costs what rang, not what waits: one read per group, and a subscription whose read came back short of
 * its COUNT asks again already polled — everything up to what it got was delivered to its group, so the doorbell
 * after that id stands for it. Only a subscription whose stream rang and whose read found nothing (another consumer
 * of its group took the entry) has its tail read again. Such a shortcut holds for one read only: a read that ends
 * at its deadline polls afresh next time, so a stream recreated with smaller ids (a Redis restart without
 * persistence) is seen within a sweep interval.
 *
 * A lazy read is not watched by the doorbell: its stream's arrivals do not wake the reader. It rides the reads of
 * every round (its entries handed over before the others', as background to what woke the reader) and ends at its
 * deadline. The bus's ready acks ride each round too, behind its reads in the same write (see `exec`).
 *
 * The connection is the bus's lean RESP client (redis-writer.ts), not ioredis: a round is one write and one
 * promise, where a general client made an object, a promise and a reply transform per command (most of a reading
 * process's CPU per message at a steady rate). A round in flight when the connection drops fails; its reads are
 * asked again once it is back, and what Redis delivered meanwhile sits in the consumers' pending lists (recovered).
 */
import type { Redis } from 'ioredis';
import type { Reply, RespWriter } from './redis-writer.ts';
import { errorText } from './types.ts';

export type StreamEntry = [sid: string, fields: string[] | null];

/** Commands that ride the reader's next write (the bus's ready acks), and what to do once their replies are in. */
export interface Rider {
  readonly payload: string;
  readonly count: number;
  done(ok: boolean): void;
}

export interface ReadRequest {
  readonly key: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  /** Longest the caller is willing to wait for entries (it has sweeps to do). */
  readonly blockMs: number;
  /**
   * Its stream's arrivals do not wake the reader: it is read along with the reads something else wakes (its entries
   * handed over before theirs), and at `blockMs` at the latest.
   */
  readonly lazy?: boolean;
}

interface Waiting {
  readonly req: ReadRequest;
  readonly deadline: number;
  /** Read with nothing found since `since` (its stream's tail then): the doorbell stands for it. */
  polled: boolean;
  since: string;
  /** A lazy read (ReadRequest.lazy): never watched, so always counted as polled. */
  readonly lazy: boolean;
  /** Its owner closed while the read was under way: it ends with whatever that read returns. */
  cancelled: boolean;
  resolve(entries: StreamEntry[]): void;
  reject(err: unknown): void;
}

const noop = (): void => {};

interface Part {
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  readonly keys: string[];
  readonly subs: [object, Waiting][];
}

/** The waiting reads as few XREADGROUPs as can serve them: one per group, consumer and COUNT, streams distinct. */
function partition(batch: readonly [object, Waiting][]): Part[] {
  const parts: Part[] = [];
  const open = new Map<string, Part>();
  for (const e of batch) {
    const r = e[1].req;
    const id = `${r.group}\u0000${r.consumer}\u0000${r.count}`;
    let p = open.get(id);
    if (p === undefined || p.keys.includes(r.key)) {
      p = { group: r.group, consumer: r.consumer, count: r.count, keys: [], subs: [] };
      open.set(id, p);
      parts.push(p);
    }
    p.keys.push(r.key);
    p.subs.push(e);
  }
  return parts;
}

/** Orders two stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const i = a.indexOf('-');
  const j = b.indexOf('-');
  const ma = Number(i < 0 ? a : a.slice(0, i));
  const mb = Number(j < 0 ? b : b.slice(0, j));
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = i < 0 ? 0 : Number(a.slice(i + 1));
  const sb = j < 0 ? 0 : Number(b.slice(j + 1));
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

export class RedisReadMux {
  /** Resolves once the connection is first ready. */
  readonly ready: Promise<void>;
  private readonly waiting = new Map<object, Waiting>();
  /** Per owner whose last read came back short of its COUNT: the id its next read is polled up to. */
  private readonly resume = new Map<object, string>();
  private inFlight = new Set<Waiting>();
  private connId: number | undefined;
  private blocked = false;
  /** While the doorbell blocks: the streams and ids it watches (undefined while a lone XREADGROUP blocks). */
  private watching: Map<string, string> | undefined;
  /** When the doorbell's block times out. */
  private blockUntil = 0;
  private blockGen = 0;
  private unblocking = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly conn: RespWriter,
    private readonly cmd: Redis,
    private readonly maxBlockMs: number,
    onReconnect: () => void,
    private readonly log?: { warn(o: object, msg: string): void },
    /** Called before each read goes out: commands to send in the same write (before the read). */
    private readonly riders?: () => Rider | undefined,
  ) {
    let markReady: () => void = noop;
    this.ready = new Promise<void>((r) => {
      markReady = r;
    });
    conn.onReady = (first) => {
      // after a reconnect, entries delivered while a reply was in flight sit in the consumers' pending lists
      this.resume.clear();
      for (const w of this.waiting.values()) w.polled = w.lazy;
      if (!first) onReconnect();
      markReady();
    };
    conn.onClose = () => {
      this.connId = undefined;
    };
  }

  /** New entries for one subscription (`owner`), or none once `blockMs` passed. One request per owner at a time. */
  read(owner: object, req: ReadRequest): Promise<StreamEntry[]> {
    if (this.closed) return Promise.resolve([]);
    const lazy = req.lazy === true;
    const since = lazy ? '0-0' : this.resume.get(owner);
    this.resume.delete(owner);
    return new Promise<StreamEntry[]>((resolve, reject) => {
      this.waiting.set(owner, {
        req,
        deadline: Date.now() + Math.max(1, Math.min(req.blockMs, this.maxBlockMs)),
        polled: since !== undefined,
        since: since ?? '0-0',
        lazy,
        cancelled: false,
        resolve,
        reject,
      });
      this.loop ??= this.run();
      this.poke();
      // the doorbell already watching this stream from no later than `since` serves it as it is
      if (this.blocked) {
        const at = since === undefined ? undefined : this.watching?.get(req.key);
        const deadline = this.waiting.get(owner)!.deadline;
        // a lazy read waits for the next wake-up anyway, unless that comes too late for it
        if (
          lazy
            ? deadline < this.blockUntil
            : at === undefined || compareIds(at, since!) > 0 || deadline < this.blockUntil
        )
          void this.unblock();
      }
    });
  }

  /** Ends the owner's waiting read with nothing, unless its round is already under way (then it gets its entries). */
  cancel(owner: object): void {
    this.resume.delete(owner);
    const w = this.waiting.get(owner);
    if (!w) return;
    if (this.inFlight.has(w)) {
      w.cancelled = true;
      if (this.blocked) void this.unblock();
      return;
    }
    this.waiting.delete(owner);
    w.resolve([]);
  }

  get connectionId(): number | undefined {
    return this.connId;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [owner, w] of this.waiting) if (!this.inFlight.has(w)) this.finish(owner, w, []);
    this.poke();
    if (this.blocked) await this.unblock();
    await this.loop;
    await this.conn.close();
  }

  /** Drops the connection at once (the bus gave up waiting for Redis). */
  abort(): void {
    this.closed = true;
    for (const [owner, w] of this.waiting) this.finish(owner, w, []);
    this.poke();
    void this.conn.close();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private finish(owner: object, w: Waiting, entries: StreamEntry[] | Error): void {
    if (this.waiting.get(owner) === w) this.waiting.delete(owner);
    if (entries instanceof Error) w.reject(entries);
    else w.resolve(entries);
  }

  /** CLIENT UNBLOCK the doorbell, repeated while it may have overtaken the XREAD it is meant for. */
  private async unblock(): Promise<void> {
    if (this.unblocking) return;
    this.unblocking = true;
    try {
      const gen = this.blockGen;
      while (this.blocked && this.blockGen === gen && this.connId !== undefined) {
        const n = await (this.cmd.call('CLIENT', 'UNBLOCK', this.connId) as Promise<number>).catch(() => 0);
        if (n === 1) break;
        // not blocking yet (the doorbell is on its way to Redis): ask again at once; the round trip paces it
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.unblocking = false;
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.waiting.size === 0) {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        continue;
      }
      try {
        await this.round();
      } catch (err) {
        if (this.closed) break;
        this.log?.warn({ err: errorText(err) }, 'redis read round failed; retrying');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async round(): Promise<void> {
    if (this.waiting.size === 1) {
      const [owner, w] = this.waiting.entries().next().value as [object, Waiting];
      if (!w.lazy) return this.single(owner, w);
    }
    // only the streams with a subscription not yet polled: the others are watched by the doorbell
    const keys: string[] = [];
    for (const w of this.waiting.values()) if (!w.polled && !keys.includes(w.req.key)) keys.push(w.req.key);
    if (keys.length > 0) await this.poll(keys);
    if (this.waiting.size === 0 || this.closed) return;
    // let handlers that finished in this tick ask again before the connection blocks
    await new Promise((r) => setImmediate(r));
    for (const w of this.waiting.values()) if (!w.polled) return;
    if (!(await this.readyToBlock())) return;
    // from here to the send, synchronous: every waiting read is both watched and read behind the doorbell
    let until = Number.POSITIVE_INFINITY;
    const watch = new Map<string, string>();
    for (const w of this.waiting.values()) {
      until = Math.min(until, w.deadline);
      if (w.lazy) continue;
      const at = watch.get(w.req.key);
      if (at === undefined || compareIds(w.since, at) < 0) watch.set(w.req.key, w.since);
    }
    // the doorbell and, queued behind it on the same connection, the reads it is for: Redis runs them the moment it
    // rings, so a wake-up costs one round trip instead of two (ring, then read)
    if (watch.size === 0) {
      // only lazy reads wait: nothing to watch; they are read at the first deadline, or go with a read that is asked
      // for before it (which pokes this wait)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, until - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
      // something else asked to read (it is watched next round), or not due yet: round again
      if (this.closed || Date.now() < until) return;
      for (const w of this.waiting.values()) if (!w.lazy) return;
    }
    const batch = [...this.waiting];
    const parts = partition(batch);
    // no doorbell when there is nothing to watch: the reads alone, not blocking
    const bell = watch.size > 0 ? 1 : 0;
    const cmds: (string | number)[][] = [];
    if (bell)
      cmds.push([
        'XREAD',
        'COUNT',
        1,
        'BLOCK',
        Math.max(1, Math.ceil(until - Date.now())),
        'STREAMS',
        ...watch.keys(),
        ...watch.values(),
      ]);
    for (const p of parts) {
      const ids = p.keys.map(() => '>');
      cmds.push(['XREADGROUP', 'GROUP', p.group, p.consumer, 'COUNT', p.count, 'STREAMS', ...p.keys, ...ids]);
    }
    for (const [, w] of batch) this.inFlight.add(w);
    this.blocked = bell === 1;
    this.watching = watch;
    this.blockUntil = until;
    this.blockGen++;
    let res: Reply[];
    try {
      res = await this.exec(cmds);
    } catch (err) {
      for (const [owner, w] of batch)
        this.finish(owner, w, err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.blocked = false;
      this.watching = undefined;
      this.inFlight = new Set();
    }
    const rang = bell ? res[0] : null;
    const rung = new Set<string>();
    if (!(rang instanceof Error))
      for (const [key] of (rang as [string, unknown][] | null) ?? []) rung.add(key);
    // lazy reads' entries are handed over first (pass 0): what they carry is background to what woke the reader
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < parts.length; j++) {
        const p = parts[j]!;
        const v = res[bell + j];
        if (v instanceof Error) {
          if (pass === 1) continue;
          // one read for several subscriptions: each reads on its own next round, so an error reaches its owner
          if (p.subs.length === 1) this.finish(p.subs[0]![0], p.subs[0]![1], v);
          else for (const [, w] of p.subs) w.polled = w.lazy;
          continue;
        }
        let got: Map<string, StreamEntry[]> | undefined;
        for (const [owner, w] of p.subs) {
          if (w.lazy !== (pass === 0)) continue;
          if (got === undefined) {
            got = new Map();
            for (const [key, entries] of (v as [string, StreamEntry[]][] | null) ?? []) got.set(key, entries);
          }
          const out = got.get(w.req.key) ?? [];
          if (out.length > 0 || this.closed || w.cancelled) {
            this.finish(owner, w, out);
            // read after the ring: the group had nothing beyond what it got (unless it got a full COUNT)
            if (out.length > 0) this.remember(owner, w, out, out[out.length - 1]![0]);
          } else if (!w.lazy && rung.has(w.req.key)) {
            // it rang and the group had nothing for us (another consumer took it): read the tail afresh
            w.polled = false;
          }
        }
      }
    }
    // a subscription that asked while the doorbell was up keeps its place: if its stream rang, the next doorbell
    // rings at once and the read behind it is its
    if (rang instanceof Error) throw rang;
    this.expire();
  }

  /**
   * Sends a read's commands and, behind them in the same write, the commands waiting to ride it (acks). Behind, not
   * in front: Redis runs them once the read is answered, so their replies come back with the read's, in one packet
   * (in front, their replies came at once, a wake-up of this process of their own).
   */
  private exec(commands: readonly (readonly (string | number)[])[]): Promise<Reply[]> {
    const r = this.conn.isReady ? this.riders?.() : undefined;
    if (r === undefined) return this.conn.exec(commands);
    return this.conn.execWithTail(commands, r);
  }

  /** Reads are waiting: a round (and with it any riders) goes out within the longest read's wait. */
  get reading(): boolean {
    return !this.closed && this.waiting.size > 0;
  }

  /** Ends a blocked read now (riders behind it are wanted: the bus is flushing its acks). */
  hurry(): void {
    if (this.blocked) void this.unblock();
  }

  /** Tails of `keys` then a non-blocking XREADGROUP for every waiting subscription of those streams. */
  private async poll(keys: readonly string[]): Promise<void> {
    const batch: [object, Waiting][] = [];
    // the lazy reads ride every poll too, first (so handed over first), as they ride the doorbell's reads
    for (const e of this.waiting) if (e[1].lazy) batch.push(e);
    for (const e of this.waiting) if (!e[1].lazy && keys.includes(e[1].req.key)) batch.push(e);
    const cmds: (string | number)[][] = [];
    for (const k of keys) cmds.push(['XREVRANGE', k, '+', '-', 'COUNT', 1]);
    for (const [, w] of batch) {
      this.inFlight.add(w);
      const r = w.req;
      cmds.push(['XREADGROUP', 'GROUP', r.group, r.consumer, 'COUNT', r.count, 'STREAMS', r.key, '>']);
    }
    let res: Reply[];
    try {
      res = await this.exec(cmds);
    } catch (err) {
      for (const [owner, w] of batch)
        this.finish(owner, w, err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.inFlight = new Set();
    }
    const tails = new Map<string, string>();
    for (let i = 0; i < keys.length; i++) {
      const v = res[i];
      if (v instanceof Error) throw v;
      const top = v as [string, string[]][];
      tails.set(keys[i]!, top.length > 0 ? top[0]![0] : '0-0');
    }
    for (let j = 0; j < batch.length; j++) {
      const [owner, w] = batch[j]!;
      const v = res[keys.length + j];
      if (v instanceof Error) {
        this.finish(owner, w, v);
        continue;
      }
      const out: StreamEntry[] = [];
      for (const [, entries] of (v as [string, StreamEntry[]][] | null) ?? []) out.push(...entries);
      // (none for a lazy read of a stream not polled: it needs none)
      const tail = tails.get(w.req.key) ?? '0-0';
      if (out.length > 0 || this.closed || w.cancelled) {
        this.finish(owner, w, out);
        this.remember(owner, w, out, tail);
      } else if (!w.lazy) {
        w.polled = true;
        w.since = tail;
      }
    }
    this.expire();
  }

  /**
   * After a read that came back short of its COUNT, the group had nothing more up to the later of the tail read
   * before it and the last entry it got: the owner's next read may start polled from there.
   */
  private remember(owner: object, w: Waiting, out: readonly StreamEntry[], tail: string): void {
    if (w.lazy || w.cancelled || this.closed || out.length >= w.req.count) return;
    const last = out.length > 0 ? out[out.length - 1]![0] : tail;
    this.resume.set(owner, compareIds(last, tail) > 0 ? last : tail);
  }

  /** Ends the polled reads whose time is up, with nothing. */
  private expire(): void {
    const now = Date.now();
    for (const [owner, w] of this.waiting) if (w.polled && w.deadline <= now) this.finish(owner, w, []);
  }

  /** The connection's id (for CLIENT UNBLOCK) is known, and nobody asked to read since the last round. */
  private async readyToBlock(): Promise<boolean> {
    if (this.connId === undefined) {
      const [id] = await this.conn.exec([['CLIENT', 'ID']]);
      if (id instanceof Error) throw id;
      this.connId = id as number;
    }
    if (this.closed) return false;
    for (const w of this.waiting.values()) if (!w.polled || w.cancelled) return false;
    return true;
  }

  /** One subscription waiting: its XREADGROUP blocks itself (cut short when another asks to read). */
  private async single(owner: object, w: Waiting): Promise<void> {
    const before = w.polled;
    w.polled = true;
    if (!(await this.readyToBlock()) || this.waiting.size !== 1) {
      w.polled = before;
      return;
    }
    const r = w.req;
    this.inFlight.add(w);
    this.blocked = true;
    this.blockGen++;
    let v: Reply;
    try {
      [v] = (await this.exec([
        [
          'XREADGROUP',
          'GROUP',
          r.group,
          r.consumer,
          'COUNT',
          r.count,
          'BLOCK',
          Math.max(1, Math.ceil(w.deadline - Date.now())),
          'STREAMS',
          r.key,
          '>',
        ],
      ])) as [Reply];
      if (v instanceof Error) throw v;
    } catch (err) {
      this.finish(owner, w, err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.blocked = false;
      this.inFlight = new Set();
    }
    const out: StreamEntry[] = [];
    for (const [, entries] of (v as [string, StreamEntry[]][] | null) ?? []) out.push(...entries);
    // nothing and time left: cut short for another reader, the next round polls both
    if (out.length > 0 || this.closed || w.cancelled || Date.now() >= w.deadline) {
      this.finish(owner, w, out);
      // a blocking read returns what the group had at that moment: nothing more up to its last entry
      if (out.length > 0) this.remember(owner, w, out, out[out.length - 1]![0]);
    } else w.polled = false;
  }
}
