/**
 * Live updates for the browser: one set of bus subscriptions per process (whatever the number of open pages),
 * folded into "what changed" and pushed to every Server-Sent-Events client at most `flushMs` apart (4 per second
 * by default), never per message. A page re-reads what it shows when a topic it cares about changed; the equity
 * points and the halt state travel in the event itself.
 *
 * A topic that fired is announced once more `settleMs` later: the store is written in batches, so a page that
 * re-reads at once may miss the last rows of a burst.
 */
import type { Bus, Subscription } from '../core/bus/types.ts';
import { type Channel, channels } from '../core/channels.ts';
import type { EquitySnapshot, SystemCommand } from '../core/messages.ts';
import { VENUES } from '../core/messages.ts';
import { mulDiv, toDecimal } from '../core/money.ts';
import { drawdownLimit, type RiskConfig } from '../risk/rules.ts';

export const TOPICS = [
  'equity',
  'opportunities',
  'decisions',
  'orders',
  'fills',
  'positions',
  'strategies',
  'system',
  'agents',
  'alerts',
  'matches',
  'control',
] as const;
export type Topic = (typeof TOPICS)[number];

export interface LiveEquityPoint {
  readonly ts: number;
  readonly equity: string;
  readonly cash: string;
  readonly highWaterMark: string;
  /** Where the drawdown stop stands (high-water mark less the drawdown limit). */
  readonly stopLevel: string;
  /** Drawdown from the high-water mark, basis points. */
  readonly drawdownBps: number;
}

export interface LiveHalt {
  readonly halted: boolean;
  readonly reason: string;
  readonly by: string;
  readonly at: number;
}

export interface LiveUpdate {
  readonly topics: Topic[];
  /** Equity snapshots since the last update (oldest first). */
  readonly equity?: LiveEquityPoint[];
  /** The last system command seen that changes the halt state. */
  readonly halt?: LiveHalt;
  /** Messages seen per topic since the hub started. */
  readonly counts: Partial<Record<Topic, number>>;
}

export type LiveListener = (u: LiveUpdate) => void;

export interface LiveHub {
  /** True when the hub listens on a bus (false: pages still load, but nothing is pushed). */
  readonly live: boolean;
  listen(fn: LiveListener): () => void;
  /** Marks a topic changed from inside the process (e.g. after a control action). */
  notify(topic: Topic): void;
  readonly clients: number;
  close(): Promise<void>;
}

export interface LiveHubOptions {
  readonly bus: Bus | undefined;
  /** Consumer group of this process's subscriptions (ephemeral: removed at close). */
  readonly group: string;
  readonly flushMs?: number;
  readonly settleMs?: number;
  /** The risk limits, for the stop level of each equity point. */
  readonly risk: RiskConfig;
}

const equityPoint = (e: EquitySnapshot, risk: RiskConfig): LiveEquityPoint => {
  const dd = Math.max(0, e.highWaterMark - e.equity);
  return {
    ts: e.ts,
    equity: toDecimal(e.equity),
    cash: toDecimal(e.cash),
    highWaterMark: toDecimal(e.highWaterMark),
    stopLevel: toDecimal(e.highWaterMark - drawdownLimit(e.highWaterMark, risk)),
    drawdownBps: e.highWaterMark > 0 ? mulDiv(dd, 10_000, e.highWaterMark, 'floor') : 0,
  };
};

export function createLiveHub(opts: LiveHubOptions): LiveHub {
  const flushMs = opts.flushMs ?? 250;
  const settleMs = opts.settleMs ?? 1_000;
  const listeners = new Set<LiveListener>();
  const dirty = new Set<Topic>();
  /** topic → when it must be announced again (settle) */
  const settle = new Map<Topic, number>();
  const counts: Partial<Record<Topic, number>> = {};
  let equity: LiveEquityPoint[] = [];
  let halt: LiveHalt | undefined;
  const subs: Subscription[] = [];

  const mark = (t: Topic): void => {
    dirty.add(t);
    counts[t] = (counts[t] ?? 0) + 1;
  };

  if (opts.bus) {
    const bus = opts.bus;
    const on = <T>(ch: Channel<T>, fn: (body: T) => void): void => {
      subs.push(bus.subscribe(ch, { group: opts.group, ephemeral: true }, (m) => fn(m.body)));
    };
    on(channels.equity, (e) => {
      mark('equity');
      equity.push(equityPoint(e, opts.risk));
      if (equity.length > 1_000) equity = equity.slice(-1_000);
    });
    on(channels.opportunities, () => mark('opportunities'));
    on(channels.tradeRequests, () => mark('opportunities'));
    on(channels.riskDecisions, () => {
      mark('decisions');
      mark('opportunities');
    });
    on(channels.orders, () => mark('orders'));
    on(channels.fills, () => {
      mark('fills');
      mark('positions');
    });
    on(channels.executions, () => mark('opportunities'));
    on(channels.positions, () => mark('positions'));
    on(channels.performance, () => mark('strategies'));
    on(channels.allocations, () => mark('strategies'));
    on(channels.strategyControl, () => mark('strategies'));
    on(channels.system, (cmd: SystemCommand) => {
      mark('system');
      if (cmd.command === 'HALT_ALL' || (cmd.command === 'RESUME' && cmd.target === undefined)) {
        halt = { halted: cmd.command === 'HALT_ALL', reason: cmd.reason, by: cmd.issuedBy, at: cmd.issuedAt };
      }
    });
    on(channels.health, () => mark('agents'));
    on(channels.alerts, () => mark('alerts'));
    on(channels.links, () => mark('matches'));
    for (const v of VENUES) on(channels.markets(v), () => mark('matches'));
  }

  const flush = (): void => {
    const now = Date.now();
    for (const [t, due] of settle) {
      if (due <= now) {
        settle.delete(t);
        if (!dirty.has(t)) dirty.add(t);
      }
    }
    if (dirty.size === 0) return;
    const topics = [...dirty];
    for (const t of topics) if (!settle.has(t)) settle.set(t, now + settleMs);
    dirty.clear();
    const update: LiveUpdate = {
      topics,
      ...(equity.length > 0 ? { equity } : {}),
      ...(halt ? { halt } : {}),
      counts: { ...counts },
    };
    equity = [];
    for (const fn of listeners) fn(update);
  };
  // a dashboard is not an agent: wall-clock timers are fine here (nothing it does enters a ledger)
  const timer = setInterval(flush, flushMs);
  timer.unref();

  return {
    live: opts.bus !== undefined,
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    notify(t) {
      mark(t);
    },
    get clients() {
      return listeners.size;
    },
    async close() {
      clearInterval(timer);
      listeners.clear();
      await Promise.all(subs.map((s) => s.close()));
    },
  };
}
