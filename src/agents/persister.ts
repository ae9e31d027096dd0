/**
 * The persister: writes every state-carrying message to the store, in batches, and acks each message only once
 * the batch holding it is committed (manual ack). A crash therefore loses nothing — a message is either written
 * or redelivered — and a redelivered one is a no-op (keys are message/domain ids). While the database is away the
 * writer retries with backoff and messages stay unacked; past `maxBuffered` rows the subscriptions pause.
 *
 * Books and oracle ticks are not state: one row per instrument per `historySampleMs` goes to the chart history,
 * the rest are acked at once.
 */
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import type { DeliveryControl, Envelope, Subscription } from '../core/bus/types.ts';
import type { Channel } from '../core/channels.ts';
import { channels } from '../core/channels.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Message, OracleTick, OrderBook } from '../core/messages.ts';
import { OracleSourceSchema, VENUES } from '../core/messages.ts';
import { type Db, errText, openDbFromConfig } from '../store/db.ts';
import { prune, type Retention, retentionFromConfig } from '../store/maintenance.ts';
import { migrate } from '../store/migrations.ts';
import { bookRow, mapMessage, tickRow } from '../store/rows.ts';
import { SNAPSHOT_EVERY_FILLS, SNAPSHOT_EVERY_MS, writeLedgerSnapshot } from '../store/snapshots.ts';
import { BatchWriter } from '../store/writer.ts';

export interface PersisterOptions {
  /** A database to use (tests, or a process sharing one); default: opened from the config, closed on stop. */
  readonly db?: Db;
  /** Apply pending migrations at start (default true). */
  readonly migrate?: boolean;
  readonly maxBatchRows?: number;
  readonly flushIntervalMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Unacked messages are redelivered after this (default 120 s: longer than a typical database blip). */
  readonly visibilityTimeoutMs?: number;
  /** Default config.store.historySampleMs. */
  readonly historySampleMs?: number;
  /** Default from config (RETENTION_*). */
  readonly retention?: Retention;
  /** How often old rows are pruned (default hourly; 0 = never). */
  readonly pruneEveryMs?: number;
  /** Rows waiting beyond which subscriptions pause until the database catches up (default 200,000). */
  readonly maxBuffered?: number;
  /** Consumer group (default 'persister'). */
  readonly group?: string;
  /** Also persist books and ticks history (default true). */
  readonly history?: boolean;
  /**
   * A ledger snapshot (restart cost independent of history, src/store/snapshots.ts) once this many fills were
   * received since the last one (default SNAPSHOT_EVERY_FILLS; 0 = only on the timer and at start and stop).
   */
  readonly snapshotEveryFills?: number;
  /** And every this long when fills came meanwhile (default SNAPSHOT_EVERY_MS; 0 = never on a timer). */
  readonly snapshotEveryMs?: number;
  /** Write ledger snapshots at all (default true). */
  readonly snapshots?: boolean;
}

type AnyChannel = Channel<Message>;

/** Every channel that carries state the store keeps. */
export function persistedChannels(): AnyChannel[] {
  const list: Channel<unknown>[] = [
    ...VENUES.map((v) => channels.markets(v)),
    channels.links,
    channels.oracleLinks,
    channels.opportunities,
    channels.tradeRequests,
    channels.riskDecisions,
    channels.orders,
    channels.fills,
    channels.resolutions,
    channels.executions,
    channels.positions,
    channels.equity,
    channels.performance,
    channels.allocations,
    channels.system,
    channels.health,
    channels.alerts,
  ];
  return list as AnyChannel[];
}

export class PersisterAgent implements Agent {
  readonly name = 'persister';
  readonly trading = false;
  private readonly opts: PersisterOptions;
  private db: Db | undefined;
  private ownsDb = false;
  private writer: BatchWriter | undefined;
  private readonly subs: Subscription[] = [];
  private pruneTimer: TimerHandle | undefined;
  private paused = false;
  private sampleMs = 1_000;
  /**
   * The time of the last history row per instrument: venue → token id (books), source → symbol (ticks). Two
   * levels keyed by the message's own strings: no key string built per book (200,000 tokens at 100,000 markets).
   */
  private readonly lastBook = new Map<string, Map<string, number>>();
  private readonly lastTick = new Map<string, Map<string, number>>();
  private received = 0;
  private sampled = 0;
  private pruned = 0;
  private clock: Clock | undefined;
  private snapshotTimer: TimerHandle | undefined;
  /** Fills received since the last snapshot started. */
  private fillsSince = 0;
  private snapshotting: Promise<void> | undefined;
  private snapshotsWritten = 0;
  private stopping = false;

  constructor(opts: PersisterOptions = {}) {
    this.opts = opts;
  }

  private rt: AgentRuntime | undefined;

  async start(rt: AgentRuntime): Promise<void> {
    this.rt = rt;
    this.stopping = false;
    const cfg = rt.config;
    this.clock = rt.clock;
    this.sampleMs = this.opts.historySampleMs ?? cfg.store.historySampleMs;
    if (this.opts.db) this.db = this.opts.db;
    else {
      this.db = await openDbFromConfig(cfg);
      this.ownsDb = true;
    }
    const db = this.db;
    if (this.opts.migrate ?? true) {
      const applied = await migrate(db);
      if (applied.length > 0) rt.log.info({ applied, backend: db.backend }, 'store migrated');
    }
    this.writer = new BatchWriter({
      db,
      clock: rt.clock,
      log: rt.log,
      dailyLossResetHourUtc: cfg.risk.dailyLossResetHourUtc,
      ...(this.opts.maxBatchRows !== undefined ? { maxBatchRows: this.opts.maxBatchRows } : {}),
      ...(this.opts.flushIntervalMs !== undefined ? { flushIntervalMs: this.opts.flushIntervalMs } : {}),
      ...(this.opts.retryBaseMs !== undefined ? { retryBaseMs: this.opts.retryBaseMs } : {}),
      ...(this.opts.retryMaxMs !== undefined ? { retryMaxMs: this.opts.retryMaxMs } : {}),
    });
    const subOpts = {
      ack: 'manual' as const,
      // a group made after others published (a first start) still gets what the transport retained
      from: 'start' as const,
      visibilityTimeoutMs: this.opts.visibilityTimeoutMs ?? 120_000,
      ...(this.opts.group ? { group: this.opts.group } : {}),
    };
    for (const ch of persistedChannels()) {
      this.subs.push(rt.subscribe(ch, (msg, ctl) => this.onState(msg, ctl), subOpts));
    }
    if (this.opts.history ?? true) {
      for (const v of VENUES) {
        this.subs.push(rt.subscribe(channels.books(v), (msg, ctl) => this.onBook(msg.body, ctl), subOpts));
      }
      for (const s of OracleSourceSchema.options) {
        this.subs.push(rt.subscribe(channels.ticks(s), (msg, ctl) => this.onTick(msg.body, ctl), subOpts));
      }
    }
    if (this.opts.snapshots ?? true) {
      // at start: what the last life stored since its last snapshot (a SIGKILL leaves a tail)
      this.snapshot();
      const ms = this.opts.snapshotEveryMs ?? SNAPSHOT_EVERY_MS;
      if (ms > 0) {
        this.snapshotTimer = rt.clock.every(ms, () => {
          if (this.fillsSince > 0) this.snapshot();
        });
      }
    }
    const every = this.opts.pruneEveryMs ?? 3_600_000;
    if (every > 0) {
      const retention = this.opts.retention ?? retentionFromConfig(cfg);
      this.pruneTimer = rt.clock.every(every, () => {
        prune(db, retention, rt.clock.now()).then(
          (n) => {
            this.pruned += Object.values(n).reduce((a, b) => a + b, 0);
          },
          (err: unknown) => rt.log.warn({ err: errText(err) }, 'store prune failed'),
        );
      });
    }
  }

  private fillsDue(): boolean {
    const n = this.opts.snapshotEveryFills ?? SNAPSHOT_EVERY_FILLS;
    return n > 0 && this.fillsSince >= n;
  }

  /** Rolls the ledger snapshot forward over the fills committed since (one at a time; a failure only logs). */
  private snapshot(final = false): Promise<void> {
    if (this.stopping && !final) return Promise.resolve();
    if (this.snapshotting || !this.db || !this.rt) return this.snapshotting ?? Promise.resolve();
    const rt = this.rt;
    this.fillsSince = 0;
    const run = writeLedgerSnapshot(this.db, rt.clock.now()).then(
      (r) => {
        if (r.written) this.snapshotsWritten++;
        if (r.fallback) rt.log.warn({ why: r.fallback }, 'ledger snapshot rebuilt from every fill');
      },
      (err: unknown) => rt.log.warn({ err: errText(err) }, 'ledger snapshot failed'),
    );
    this.snapshotting = run.finally(() => {
      this.snapshotting = undefined;
      // fills that passed the threshold meanwhile: the next one now
      if (this.fillsDue() && !this.stopping) void this.writer?.flush().then(() => this.snapshot());
    });
    return this.snapshotting;
  }

  private onState(msg: Envelope<Message>, ctl: DeliveryControl): void {
    this.received++;
    const body = msg.body;
    // a resolved market's books stop: their sampling times go (a roll-over relisting markets would keep them all)
    if (body.type === 'market' && body.status === 'resolved') {
      const byToken = this.lastBook.get(body.venue);
      if (byToken) for (const o of body.outcomes) byToken.delete(o.tokenId);
    }
    if (msg.body.type === 'fill' && (this.opts.snapshots ?? true)) {
      this.fillsSince++;
      if (this.fillsDue() && !this.snapshotting) void this.writer?.flush().then(() => this.snapshot());
    }
    const { rows, state } = mapMessage(msg.id, msg.body);
    if (rows.length === 0 && state.length === 0) {
      ctl.ack();
      return;
    }
    this.writer!.add(
      rows,
      state,
      () => ctl.ack(),
      (reason) => this.poisoned(msg, reason, ctl),
    );
    this.backpressure();
  }

  /** Rows the database refused on their content: dead-lettered with the reason (an alert), then acked. */
  private poisoned(msg: Envelope<Message>, reason: string, ctl: DeliveryControl): void {
    const rt = this.rt;
    if (rt) {
      rt.publish(channels.deadLetter(msg.channel), {
        type: 'dead_letter',
        channel: msg.channel,
        group: rt.agent.name,
        messageId: msg.id,
        attempts: msg.attempt,
        error: `store refused the rows: ${reason}`,
        body: msg.body,
        ts: rt.clock.now(),
      });
    }
    ctl.ack();
  }

  private due(last: Map<string, Map<string, number>>, group: string, key: string, ts: number): boolean {
    let byKey = last.get(group);
    if (!byKey) {
      byKey = new Map();
      last.set(group, byKey);
    }
    const at = byKey.get(key);
    if (at !== undefined && ts - at < this.sampleMs && ts >= at) return false;
    byKey.set(key, ts);
    return true;
  }

  private onBook(book: OrderBook, ctl: DeliveryControl): void {
    this.received++;
    if (!this.due(this.lastBook, book.venue, book.tokenId, book.receiveTime)) {
      ctl.ack();
      return;
    }
    this.sampled++;
    this.writer!.add([bookRow(book, book.receiveTime)], [], () => ctl.ack());
    this.backpressure();
  }

  private onTick(tick: OracleTick, ctl: DeliveryControl): void {
    this.received++;
    if (!this.due(this.lastTick, tick.source, tick.symbol, tick.receiveTime)) {
      ctl.ack();
      return;
    }
    this.sampled++;
    this.writer!.add([tickRow(tick, tick.receiveTime)], [], () => ctl.ack());
    this.backpressure();
  }

  private backpressure(): void {
    const max = this.opts.maxBuffered ?? 200_000;
    const w = this.writer!;
    if (!this.paused && w.buffered > max) {
      this.paused = true;
      for (const s of this.subs) s.pause();
      void w.flush().then(() => {
        this.paused = false;
        for (const s of this.subs) s.resume();
      });
    }
  }

  /** Resolves once everything received so far is committed (and acked). */
  flush(): Promise<void> {
    return this.writer?.flush() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.pruneTimer?.cancel();
    this.snapshotTimer?.cancel();
    // Subscriptions are closed by the runtime first; write what is buffered (bounded: unacked is redelivered anyway).
    if (this.writer) {
      const w = this.writer;
      await Promise.race([w.flush(), new Promise<void>((r) => this.clock?.after(5_000, r) ?? r())]);
      w.close();
    }
    // and a ledger snapshot of everything stored, so the next start replays nothing (bounded: a tail replays anyway)
    if (this.opts.snapshots ?? true) {
      await this.snapshotting;
      if (this.fillsSince > 0)
        await Promise.race([
          this.snapshot(true),
          new Promise<void>((r) => this.clock?.after(5_000, r) ?? r()),
        ]);
    }
    if (this.ownsDb) await this.db?.close();
  }

  health(): HealthDetails {
    const w = this.writer?.stats();
    return {
      received: this.received,
      sampled: this.sampled,
      rowsWritten: w?.rowsWritten ?? 0,
      batches: w?.batches ?? 0,
      writeFailures: w?.failures ?? 0,
      buffered: w?.buffered ?? 0,
      lastError: w?.lastError ?? null,
      pruned: this.pruned,
      snapshots: this.snapshotsWritten,
      backend: this.db?.backend ?? null,
    };
  }
}

export const createPersister = (opts: PersisterOptions = {}): PersisterAgent => new PersisterAgent(opts);

/** `--opt` values for `pm-arb agent persister`. */
export function persisterOptionsFromCli(o: Readonly<Record<string, string>>): PersisterOptions {
  const int = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--opt ${k}=${v}: expected a whole number`);
    return n;
  };
  const out: Record<string, number> = {};
  for (const k of [
    'maxBatchRows',
    'flushIntervalMs',
    'retryBaseMs',
    'retryMaxMs',
    'visibilityTimeoutMs',
    'historySampleMs',
    'pruneEveryMs',
    'maxBuffered',
    'snapshotEveryFills',
    'snapshotEveryMs',
  ]) {
    const v = int(k);
    if (v !== undefined) out[k] = v;
  }
  return out as PersisterOptions;
}
