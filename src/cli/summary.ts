/**
 * The terminal summary of `pm-arb run` (`npm start`): a few lines redrawn in place on a terminal, one line per
 * interval elsewhere (a pipe, a log file, a terminal narrower than MIN_TTY_WIDTH).
 *
 *   const feed = createSummaryFeed(bus, { group: `run-summary@${instance}` });   // recent trades, rejections, halt
 *   const screen = createSummaryScreen({ stream: process.stderr });
 *   screen.draw(renderSummary({ counters, feed: feed.state, rate, ... }, screen.width()));
 *
 * Every line is cut to the terminal's width minus one, so no line wraps and moving the cursor up by the number
 * of lines drawn always lands on the first line of the previous summary. Rates are over the last interval
 * (events since the previous draw), not an average since start.
 */
import type { LiveCounters } from '../app/backtest.ts';
import type { Bus, Subscription } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { Fill, RiskDecision, SystemCommand } from '../core/messages.ts';
import { formatUsd, formatUsdChange, type Money, toDecimal } from '../core/money.ts';

/** Below this many columns a terminal gets the plain line-per-interval output. */
export const MIN_TTY_WIDTH = 40;
/** How many recent trades and rejections the summary lists. */
export const RECENT = 3;

export interface RecentFill {
  readonly ts: number;
  readonly strategy: string;
  readonly venue: string;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: string;
  readonly price: number;
  readonly shares: number;
  readonly kind: Fill['kind'];
}

export interface RecentDecision {
  readonly ts: number;
  readonly strategy: string;
  readonly verdict: string;
  readonly rule: string;
  readonly reason: string;
}

export interface SummaryFeedState {
  /** Newest first. */
  readonly fills: RecentFill[];
  /** Rejections and reductions, newest first. */
  readonly rejections: RecentDecision[];
  halt: { readonly reason: string; readonly by: string; readonly at: number } | null;
  /** Trade fills per strategy (the summary lists every strategy, those without a trade too). */
  readonly tradesByStrategy: Map<string, number>;
}

/** What the summary needs beyond the counters: the last trades and rejections, and the halt state. */
export function createSummaryFeed(
  bus: Bus,
  opts: { group: string; keep?: number; halted?: SummaryFeedState['halt'] },
): { state: SummaryFeedState; close: () => Promise<void> } {
  const keep = opts.keep ?? RECENT;
  const state: SummaryFeedState = {
    fills: [],
    rejections: [],
    halt: opts.halted ?? null,
    tradesByStrategy: new Map(),
  };
  const push = <T>(list: T[], x: T): void => {
    list.unshift(x);
    if (list.length > keep) list.length = keep;
  };
  const subs: Subscription[] = [
    bus.subscribe(channels.fills, { group: opts.group }, (m) => {
      const f = m.body as Fill;
      if (f.kind === 'trade')
        state.tradesByStrategy.set(f.strategy, (state.tradesByStrategy.get(f.strategy) ?? 0) + 1);
      push(state.fills, {
        ts: f.ts,
        strategy: f.strategy,
        venue: f.venue,
        marketId: f.marketId,
        tokenId: f.tokenId,
        side: f.side,
        price: f.price,
        shares: f.shares,
        kind: f.kind,
      });
    }),
    bus.subscribe(channels.riskDecisions, { group: opts.group }, (m) => {
      const d = m.body as RiskDecision;
      if (d.verdict === 'approve') return;
      push(state.rejections, {
        ts: d.decidedAt,
        strategy: d.strategy,
        verdict: d.verdict,
        rule: d.rule,
        reason: d.reason,
      });
    }),
    bus.subscribe(channels.system, { group: opts.group }, (m) => {
      const s = m.body as SystemCommand;
      if (s.command === 'HALT_ALL') state.halt = { reason: s.reason, by: s.issuedBy, at: s.issuedAt };
      else if (s.command === 'RESUME' && s.target === undefined) state.halt = null;
    }),
  ];
  return { state, close: async () => void (await Promise.all(subs.map((s) => s.close()))) };
}

/** Events per second over the last interval: each sample is compared with the previous one. */
export function createRateMeter(): { sample(count: number, wallMs: number): number | null } {
  let prev: { count: number; at: number } | undefined;
  return {
    sample(count, wallMs) {
      const p = prev;
      prev = { count, at: wallMs };
      if (!p || wallMs <= p.at) return null;
      return ((count - p.count) * 1000) / (wallMs - p.at);
    },
  };
}

export interface SummaryInput {
  readonly counters: LiveCounters;
  readonly feed: SummaryFeedState;
  /** Events per second over the last interval (null before the second draw). */
  readonly eventsPerSec: number | null;
  /** The kernel clock (the simulated market's time with --feeds sim). */
  readonly clockMs: number;
  /** Wall time since the agents started. */
  readonly upMs: number;
  readonly initialCash: Money;
  /** Every strategy the runner has, so one that has not traded yet is listed too. */
  readonly strategies: readonly string[];
  /** "paper · sim seed 1" */
  readonly mode: string;
  /** The closing summary (no "Ctrl-C to stop"). */
  readonly final?: boolean;
}

const n = (x: number): string => x.toLocaleString('en-US');
const hms = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
const up = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s % 60).padStart(2, '0')}`;
};
const short = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Cuts a line to `width` columns (the summary's characters are all one column wide). */
export function clip(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Strategy names in the compact lines ("cross-venue-arb" → "cross-venue", "oracle-sniper" → "sniper"). */
const strat = (s: string): string => s.replace(/-arb$/, '').replace(/^oracle-sniper$/, 'sniper');

/** The full summary, every line at most `width - 1` columns. */
export function renderSummary(s: SummaryInput, width: number): string[] {
  const c = s.counters;
  const l = c.ledger;
  const w = Math.max(20, width - 1);
  const rate = s.eventsPerSec === null ? '' : ` (${n(Math.round(s.eventsPerSec))}/s)`;
  const kinds = Object.entries(c.opportunitiesByKind)
    .sort()
    .map(([k, v]) => `${k} ${n(v)}`);
  const rejectRules = Object.entries(c.byRule)
    .filter(([r]) => r !== 'ok')
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([r, v]) => `${r} ${n(v)}`)
    .join(', ');
  const equity = l.equity();
  const perStrategy = [...new Set([...s.strategies, ...c.performance.keys()])].map((name) => {
    const p = c.performance.get(name);
    const trades = s.feed.tradesByStrategy.get(name) ?? 0;
    return `${strat(name)} ${formatUsdChange(p?.pnl ?? 0)} (${n(trades)})`;
  });
  const lines = [
    `pm-arb · ${s.mode} · up ${up(s.upMs)} · ${hms(s.clockMs)}Z${s.final ? '' : ' · Ctrl-C to stop'}`,
    s.feed.halt
      ? `HALTED by ${s.feed.halt.by}: ${s.feed.halt.reason}`
      : `trading: on · events ${n(c.events)}${rate} · requests ${n(c.requests)} · fills ${n(c.fills)}`,
    ...pack(`opportunities ${n(c.opportunities)}${kinds.length > 0 ? ':' : ''}`, kinds, width),
    `risk: approve ${n(c.byVerdict.approve ?? 0)} · reduce ${n(c.byVerdict.reduce ?? 0)} · reject ` +
      `${n(c.byVerdict.reject ?? 0)}${rejectRules ? ` (${rejectRules})` : ''}`,
    `equity ${formatUsd(equity)} (${formatUsdChange(equity - s.initialCash)}) · realized ` +
      `${formatUsdChange(l.realizedPnl())} · fees ${formatUsd(l.fees())} · max dd ${formatUsd(c.maxDrawdown)}`,
    ...pack('P&L (fills):', perStrategy, width),
    'last trades:',
    ...(s.feed.fills.length === 0
      ? ['  none yet']
      : s.feed.fills.map(
          (f) =>
            `  ${hms(f.ts)} ${strat(f.strategy)} ${f.kind === 'trade' ? '' : `${f.kind} `}${f.side} ` +
            `${toDecimal(f.shares)} @ ${toDecimal(f.price)} ${f.venue}:${short(f.tokenId, 24)}`,
        )),
    'last rejections:',
    ...(s.feed.rejections.length === 0
      ? ['  none yet']
      : s.feed.rejections.map(
          (d) => `  ${hms(d.ts)} ${strat(d.strategy)} ${d.verdict} ${d.rule}: ${d.reason}`,
        )),
  ];
  return lines.map((x) => clip(x, w));
}

/** One line per interval, for a pipe, a file or a narrow terminal. */
export function renderSummaryLine(s: SummaryInput): string {
  const c = s.counters;
  const equity = c.ledger.equity();
  const rate = s.eventsPerSec === null ? '' : ` (${n(Math.round(s.eventsPerSec))}/s)`;
  return (
    `[${hms(s.clockMs)}Z up ${up(s.upMs)}]${s.feed.halt ? ' HALTED' : ''} events ${n(c.events)}${rate} ` +
    `opps ${n(c.opportunities)} fills ${n(c.fills)} rejects ${n(c.byVerdict.reject ?? 0)} ` +
    `equity ${formatUsd(equity)} (${formatUsdChange(equity - s.initialCash)})`
  );
}

/**
 * `items` after `head`, joined by `sep` and broken into lines of at most `width - 1` columns (continuation lines
 * indented by two spaces); an item longer than a line is cut.
 */
export function pack(head: string, items: readonly string[], width: number, sep = ' · '): string[] {
  const w = Math.max(20, width - 1);
  const out: string[] = [];
  let line = head;
  let empty = true;
  for (const [i, it] of items.entries()) {
    const piece = `${it}${i < items.length - 1 ? sep.trimEnd() : ''}`;
    const gap = empty ? (line.endsWith(' ') || line === '' ? '' : ' ') : sep.endsWith(' ') ? ' ' : '';
    if (!empty && line.length + gap.length + piece.length > w) {
      out.push(line);
      line = `  ${piece}`;
    } else line += `${gap}${piece}`;
    empty = false;
  }
  out.push(line);
  return out.map((x) => clip(x, w));
}

export interface SummaryScreen {
  /** True: lines are redrawn in place; false: one line per interval. */
  readonly inPlace: boolean;
  /** Columns available (80 when unknown). */
  width(): number;
  /** Draws the summary (in place) or its one line (plain). */
  draw(lines: readonly string[], line: string): void;
  /** Writes lines above the summary (a message), then the summary is redrawn below them on the next draw. */
  note(text: string): void;
  /** Leaves the last summary on screen and stops redrawing in place. */
  release(): void;
}

/**
 * Where the summary goes. On a terminal at least MIN_TTY_WIDTH wide it is redrawn in place (cursor up by the
 * lines last drawn, clear to the end of the screen); a resize starts a fresh block, since the old lines may have
 * re-wrapped. Elsewhere each draw writes one line.
 */
export function createSummaryScreen(o: {
  stream: NodeJS.WriteStream;
  /** Force plain output (default: plain unless a TTY). */
  plain?: boolean;
}): SummaryScreen {
  const stream = o.stream;
  const tty = stream.isTTY === true && o.plain !== true;
  let drawn = 0;
  const onResize = (): void => {
    drawn = 0;
  };
  if (tty) stream.on('resize', onResize);
  const width = (): number => (tty && stream.columns ? stream.columns : 80);
  const inPlace = (): boolean => tty && width() >= MIN_TTY_WIDTH;
  return {
    get inPlace() {
      return inPlace();
    },
    width,
    draw(lines, line) {
      if (!inPlace()) {
        stream.write(`${line}\n`);
        return;
      }
      // never taller than the terminal: the cursor cannot move up past its top row
      const rows = stream.rows && stream.rows > 2 ? stream.rows - 1 : lines.length;
      const fitted = lines.slice(0, rows).map((x) => clip(x, width() - 1));
      stream.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}\x1b[J${fitted.join('\n')}\n`);
      drawn = fitted.length;
    },
    note(text) {
      if (inPlace() && drawn > 0) stream.write(`\x1b[${drawn}F\x1b[J`);
      drawn = 0;
      stream.write(`${text}\n`);
    },
    release() {
      drawn = 0;
      if (tty) stream.off('resize', onResize);
    },
  };
}
