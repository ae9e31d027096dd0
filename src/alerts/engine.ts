/**
 * What deserves an alert. The engine sees the system's events (commands, risk decisions, heartbeats, execution
 * reports, fills, reconciliation, dead letters, equity, alerts other agents raise) with the clock's time and
 * raises alert candidates; a gate in front of the notifier drops repeats of the same alert within the dedupe
 * window and rate-limits the rest, so a flapping feed or a burst of rejections never becomes a storm.
 *
 * Halts are a state, not events: the first sign of a halt (HALT_ALL, a drawdown or daily-loss rejection, a
 * kill-switch rejection) raises one halt alert; every later sign while halted is the same halt. RESUME ends it
 * with one resume notice; rejections decided before the guardian applied the RESUME are not a new halt.
 *
 * Pure of I/O and of real time: every method takes `now` from the caller's clock, so tests drive it on a
 * simulated clock.
 */
import type { DeadLetter } from '../core/channels.ts';
import type {
  Alert,
  EquitySnapshot,
  ExecutionReport,
  Fill,
  Heartbeat,
  ReconciliationMismatch,
  RiskDecision,
  SystemCommand,
} from '../core/messages.ts';
import { notional, parseMicro, toDecimal } from '../core/money.ts';
import type { AlertSettings } from './settings.ts';

export type AlertLevel = 'info' | 'warning' | 'critical';
export type AlertKind =
  | 'halt'
  | 'resume'
  | 'agent_silent'
  | 'agent_back'
  | 'agent_faulted'
  | 'feed_down'
  | 'feed_up'
  | 'reconciliation'
  | 'leg_risk'
  | 'large_fill'
  | 'error_burst'
  | 'daily_summary'
  | 'bus_alert'
  | 'test';

export interface AlertCandidate {
  /** Unique: `<key>@<ts>#<n>`. */
  readonly id: string;
  readonly kind: AlertKind;
  /** Dedupe key: the same key is not sent twice within the dedupe window. */
  readonly key: string;
  readonly level: AlertLevel;
  readonly title: string;
  readonly body: string;
  /** Pushover priority, -2 … 2. */
  readonly priority: number;
  /** Pushover emergency repeats (priority 2). */
  readonly emergency?: { readonly retryS: number; readonly expireS: number };
  readonly ts: number;
  /** Halts and resumes: never deduplicated by window nor rate-limited (the halt state machine dedupes them). */
  readonly essential?: boolean;
}

export type GateVerdict = 'send' | 'duplicate' | 'rate_limited';

/** Dedupe window and token bucket in front of the notifier. */
export class AlertGate {
  private readonly lastSent = new Map<string, number>();
  private tokens: number | undefined;
  private refilledAt = 0;
  private readonly settings: () => AlertSettings['delivery'];

  constructor(settings: () => AlertSettings['delivery']) {
    this.settings = settings;
  }

  check(c: AlertCandidate, now: number): GateVerdict {
    const s = this.settings();
    if (!c.essential) {
      const last = this.lastSent.get(c.key);
      if (last !== undefined && now - last < s.dedupeWindowS * 1000) return 'duplicate';
      this.refill(now, s);
      if ((this.tokens ?? 0) < 1) return 'rate_limited';
      this.tokens! -= 1;
    }
    this.lastSent.set(c.key, now);
    this.prune(now, s.dedupeWindowS * 1000);
    return 'send';
  }

  /** An alert sent before a restart (from the alert log): its window still holds. */
  restore(key: string, ts: number): void {
    const had = this.lastSent.get(key);
    if (had === undefined || had < ts) this.lastSent.set(key, ts);
  }

  private refill(now: number, s: AlertSettings['delivery']): void {
    if (this.tokens === undefined) {
      this.tokens = s.burst;
      this.refilledAt = now;
      return;
    }
    const gained = ((now - this.refilledAt) / 3_600_000) * s.maxPerHour;
    this.tokens = Math.min(s.burst, this.tokens + gained);
    this.refilledAt = now;
  }

  private prune(now: number, windowMs: number): void {
    if (this.lastSent.size < 10_000) return;
    for (const [k, t] of this.lastSent) if (now - t >= windowMs) this.lastSent.delete(k);
  }
}

export type HaltCause = 'drawdown' | 'daily_loss' | 'manual' | 'fault';

/** Rules that fire before the daily-loss check: a decision with any other rule means that check passed. */
const BEFORE_DAILY_LOSS = new Set([
  'invalid_request',
  'unknown_market',
  'kill_switch',
  'drawdown_stop',
  'daily_loss',
]);
/** After a RESUME, halt rejections decided within this long are the guardian catching up, unless it has shown it resumed. */
const RESUME_GRACE_MS = 10_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const usd = (m: number): string => (m < 0 ? `-$${toDecimal(-m)}` : `$${toDecimal(m)}`);
const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

export function haltCause(cmd: Pick<SystemCommand, 'reason' | 'issuedBy'>): HaltCause {
  const text = `${cmd.reason} ${cmd.issuedBy}`.toLowerCase();
  if (text.includes('drawdown')) return 'drawdown';
  if (/daily[ _-]?loss/.test(text)) return 'daily_loss';
  if (text.includes('fault') || text.includes('invariant')) return 'fault';
  return 'manual';
}

const CAUSE_TEXT: Record<HaltCause, string> = {
  drawdown: 'drawdown stop',
  daily_loss: 'daily-loss limit',
  manual: 'manual halt',
  fault: 'fault',
};

interface Instance {
  agent: string;
  instance: string;
  state: Heartbeat['state'];
  seenAt: number;
  silentAlerted: boolean;
  silentSent: boolean;
  failed: number | undefined;
}

interface FeedState {
  since: number | undefined;
  problem: string;
  alerted: boolean;
  sent: boolean;
}

interface Day {
  startEquity: number | undefined;
  fills: number;
  trades: number;
  fees: number;
  legRiskCost: number;
  halts: number;
}

export interface EngineStats {
  raised: number;
  sent: number;
  duplicates: number;
  rateLimited: number;
  repeatedHalts: number;
}

export interface AlertEngineOptions {
  readonly settings: AlertSettings;
  /** Receives every candidate the gate lets through ('send') or rate-limits ('rate_limited'). */
  readonly emit: (c: AlertCandidate, verdict: Exclude<GateVerdict, 'duplicate'>) => void;
}

export class AlertEngine {
  private settings: AlertSettings;
  private readonly emit: AlertEngineOptions['emit'];
  private readonly gate: AlertGate;
  private seq = 0;
  private halt: { cause: HaltCause; reason: string; since: number } | undefined;
  private resumeAt = Number.NEGATIVE_INFINITY;
  private guardianResumed = true;
  private readonly instances = new Map<string, Instance>();
  private readonly feeds = new Map<string, FeedState>();
  private errors: { ts: number; n: number; source: string }[] = [];
  private equity: EquitySnapshot | undefined;
  private day: Day = { startEquity: undefined, fills: 0, trades: 0, fees: 0, legRiskCost: 0, halts: 0 };
  private nextSummaryAt: number | undefined;
  readonly stats: EngineStats = { raised: 0, sent: 0, duplicates: 0, rateLimited: 0, repeatedHalts: 0 };

  constructor(opts: AlertEngineOptions) {
    this.settings = opts.settings;
    this.emit = opts.emit;
    this.gate = new AlertGate(() => this.settings.delivery);
  }

  get halted(): boolean {
    return this.halt !== undefined;
  }

  setSettings(s: AlertSettings): void {
    if (s.dailySummary.hourUtc !== this.settings.dailySummary.hourUtc) this.nextSummaryAt = undefined;
    this.settings = s;
  }

  /** State kept across a restart: the halt in force and when alerts were last sent, from the store. */
  restore(r: {
    halt?: { cause: HaltCause; reason: string; since: number };
    sent?: Iterable<[string, number]>;
  }): void {
    if (r.halt) this.halt = r.halt;
    for (const [k, t] of r.sent ?? []) this.gate.restore(k, t);
  }

  // ------------------------------------------------------------------------------------------- events

  onSystem(cmd: SystemCommand, now: number): void {
    if (cmd.command === 'HALT_ALL') {
      this.enterHalt(haltCause(cmd), `${cmd.reason} (by ${cmd.issuedBy})`, now);
    } else if (cmd.command === 'RESUME' && cmd.target === undefined) {
      this.resumeAt = now;
      this.guardianResumed = false;
      this.exitHalt(`RESUME by ${cmd.issuedBy}: ${cmd.reason}`, now);
    }
  }

  onDecision(d: RiskDecision, now: number): void {
    const haltRule = d.rule === 'drawdown_stop' || d.rule === 'daily_loss' || d.rule === 'kill_switch';
    if (!haltRule) {
      if (d.decidedAt >= this.resumeAt) this.guardianResumed = true;
      if (!BEFORE_DAILY_LOSS.has(d.rule) && this.halt?.cause === 'daily_loss')
        this.exitHalt('the daily-loss window reopened', now);
      return;
    }
    // a rejection the guardian decided before it applied the RESUME is the old halt, not a new one
    if (!this.guardianResumed && d.decidedAt <= this.resumeAt + RESUME_GRACE_MS) return;
    const cause: HaltCause =
      d.rule === 'drawdown_stop' ? 'drawdown' : d.rule === 'daily_loss' ? 'daily_loss' : 'manual';
    this.enterHalt(cause, d.reason, now);
  }

  onHeartbeat(hb: Heartbeat, now: number): void {
    const id = `${hb.agent}@${hb.instance}`;
    const s = this.settings.agentSilent;
    if (hb.state === 'stopped') {
      // a clean stop is not an outage
      this.instances.delete(id);
      this.feeds.delete(id);
      return;
    }
    let inst = this.instances.get(id);
    if (!inst) {
      inst = {
        agent: hb.agent,
        instance: hb.instance,
        state: hb.state,
        seenAt: now,
        silentAlerted: false,
        silentSent: false,
        failed: undefined,
      };
      this.instances.set(id, inst);
    }
    if (inst.silentAlerted) {
      if (inst.silentSent && s.enabled)
        this.raise(
          'agent_back',
          `agent_back:${id}`,
          'info',
          `${hb.agent} is back`,
          `${id} sends heartbeats again (state ${hb.state}).`,
          Math.min(s.priority, 0),
          now,
        );
      inst.silentAlerted = false;
      inst.silentSent = false;
    }
    if (hb.state === 'faulted' && inst.state !== 'faulted' && s.enabled) {
      this.raise(
        'agent_faulted',
        `agent_faulted:${id}`,
        'critical',
        `${hb.agent} faulted`,
        `${id} reported state faulted: it takes no new work until restarted. Read its log, fix the cause, restart it.`,
        Math.max(s.priority, 1),
        now,
      );
    }
    inst.state = hb.state;
    inst.seenAt = now;
    // a newer instance of the same agent replaces one that went silent (a restart after a crash)
    for (const [k, other] of this.instances) {
      if (k === id || other.agent !== hb.agent || !other.silentAlerted) continue;
      this.instances.delete(k);
      if (other.silentSent && s.enabled)
        this.raise(
          'agent_back',
          `agent_back:${k}`,
          'info',
          `${hb.agent} is back`,
          `${id} replaces ${k}, which went silent (state ${hb.state}).`,
          Math.min(s.priority, 0),
          now,
        );
    }

    const failed = hb.details.failed;
    if (typeof failed === 'number') {
      if (inst.failed !== undefined && failed > inst.failed)
        this.addErrors(failed - inst.failed, `${hb.agent} failed handlers`, now);
      inst.failed = failed;
    }
    this.onFeedHealth(id, hb, now);
  }

  private onFeedHealth(id: string, hb: Heartbeat, now: number): void {
    const connected = hb.details.connected;
    if (typeof connected !== 'boolean') return;
    const after = this.settings.feedDown.afterS * 1000;
    const age = hb.details.lastMessageAgeMs;
    let f = this.feeds.get(id);
    if (!f) {
      f = { since: undefined, problem: '', alerted: false, sent: false };
      this.feeds.set(id, f);
    }
    const silentFor = typeof age === 'number' && age > after ? age : undefined;
    if (!connected || silentFor !== undefined) {
      if (f.since === undefined) f.since = connected ? now - silentFor! : now;
      f.problem = connected ? `no data for ${secs(silentFor!)}` : 'disconnected';
      return;
    }
    if (f.sent && this.settings.feedDown.enabled)
      this.raise(
        'feed_up',
        `feed_up:${hb.agent}`,
        'info',
        `${hb.agent} feed is back`,
        `${hb.agent} is connected and receiving data again.`,
        Math.min(this.settings.feedDown.priority, 0),
        now,
      );
    f.since = undefined;
    f.alerted = false;
    f.sent = false;
  }

  onExecution(r: ExecutionReport, now: number): void {
    if (r.fills > 0) this.day.trades++;
    this.day.legRiskCost += Math.max(0, r.legRiskCost);
    const s = this.settings.legRisk;
    if (!s.enabled || !(r.status === 'unwound' || r.legRiskCost > 0)) return;
    if (r.legRiskCost < parseMicro(s.minCostUsd)) return;
    this.raise(
      'leg_risk',
      `leg_risk:${r.requestId}`,
      'warning',
      `Leg-risk unwind: ${r.strategy}`,
      `Request ${r.requestId} (${r.strategy}) filled on one leg only; the excess was unwound at a cost of ${usd(r.legRiskCost)} (status ${r.status}${r.reason ? `: ${r.reason}` : ''}).`,
      s.priority,
      now,
    );
  }

  onFill(f: Fill, now: number): void {
    if (f.kind === 'settlement') return;
    this.day.fills++;
    this.day.fees += f.fee;
    const s = this.settings.largeFill;
    if (!s.enabled) return;
    const n = notional(f.price, f.shares, 'round');
    if (n < parseMicro(s.notionalUsd)) return;
    this.raise(
      'large_fill',
      `large_fill:${f.id}`,
      'warning',
      `Large fill ${usd(n)} on ${f.venue}`,
      `${f.strategy} ${f.side} ${toDecimal(f.shares)} shares of ${f.marketId} at ${toDecimal(f.price)} on ${f.venue}: notional ${usd(n)}, fee ${usd(f.fee)} (threshold ${usd(parseMicro(s.notionalUsd))}).`,
      s.priority,
      now,
    );
  }

  onReconciliation(m: ReconciliationMismatch, now: number): void {
    const s = this.settings.reconciliation;
    if (!s.enabled) return;
    const subject = m.clientOrderId ?? m.tokenId ?? m.marketId ?? 'account';
    const amount = (v: number): string => (m.unit === 'orders' ? String(v) : toDecimal(v));
    this.raise(
      'reconciliation',
      `reconciliation:${m.venue}:${m.kind}:${subject}`,
      m.halt ? 'critical' : 'warning',
      `Reconciliation mismatch on ${m.venue}: ${m.kind.replaceAll('_', ' ')}`,
      `${m.venue} ${m.kind} ${subject}: venue ${amount(m.venueValue)}, ours ${amount(m.ourValue)} ${m.unit} (difference ${amount(m.diff)}).${m.halt ? ' Above the halt threshold: trading halts.' : ''}`,
      m.halt ? Math.max(s.priority, 1) : s.priority,
      now,
    );
  }

  onDeadLetter(dl: DeadLetter, now: number): void {
    this.addErrors(1, `dead letters on ${dl.channel}`, now);
  }

  onEquity(e: EquitySnapshot, now: number): void {
    this.equity = e;
    if (this.day.startEquity === undefined) this.day.startEquity = e.equity;
    this.tick(now);
  }

  /** `messageId`: the bus message id, kept as the alert's id (one alert-log row with the persister's copy). */
  onBusAlert(a: Alert, now: number, messageId?: string): void {
    const s = this.settings.busAlerts;
    const rank = { info: 0, warning: 1, critical: 2 } as const;
    if (!s.enabled || rank[a.level] < rank[s.minLevel]) return;
    const p =
      a.level === 'critical'
        ? Math.max(s.priority, 1)
        : a.level === 'info'
          ? Math.min(s.priority, -1)
          : s.priority;
    this.raise('bus_alert', `bus:${a.title}`, a.level, a.title, a.body, p, now, false, messageId);
  }

  /** Periodic checks (on a clock timer): silent agents, feeds down long enough, error bursts, the daily summary. */
  tick(now: number): void {
    const silent = this.settings.agentSilent;
    for (const [id, inst] of this.instances) {
      if (inst.silentAlerted) {
        if (now - inst.seenAt > DAY) this.instances.delete(id);
        continue;
      }
      if (now - inst.seenAt < silent.afterS * 1000) continue;
      inst.silentAlerted = true;
      if (!silent.enabled) continue;
      inst.silentSent = this.raise(
        'agent_silent',
        `agent_silent:${id}`,
        'critical',
        `${inst.agent} silent for ${secs(now - inst.seenAt)}`,
        `No heartbeat from ${id} (last state ${inst.state}) for ${secs(now - inst.seenAt)}. Is the process alive? Check \`pm-arb status\`, its log and restart it.`,
        silent.priority,
        now,
      );
      this.feeds.delete(id);
    }
    const feed = this.settings.feedDown;
    for (const [id, f] of this.feeds) {
      if (f.since === undefined || f.alerted || now - f.since < feed.afterS * 1000) continue;
      f.alerted = true;
      if (!feed.enabled) continue;
      const agent = id.slice(0, id.indexOf('@'));
      f.sent = this.raise(
        'feed_down',
        `feed_down:${agent}`,
        'warning',
        `${agent} feed down`,
        `${agent}: ${f.problem} since ${secs(now - f.since)} ago. Its books are stale and nothing trades on them. Check the venue's status and the agent's log.`,
        feed.priority,
        now,
      );
    }
    this.checkDailySummary(now);
  }

  // ------------------------------------------------------------------------------------------- helpers

  private enterHalt(cause: HaltCause, reason: string, now: number): void {
    if (this.halt) {
      this.stats.repeatedHalts++;
      return;
    }
    this.halt = { cause, reason, since: now };
    this.day.halts++;
    const s = this.settings.halt;
    if (!s.enabled) return;
    const eq = this.equity;
    this.raise(
      'halt',
      'halt',
      'critical',
      `Trading HALTED: ${CAUSE_TEXT[cause]}`,
      `${reason}${eq ? ` Equity ${usd(eq.equity)} (high-water mark ${usd(eq.highWaterMark)}).` : ''} No new orders until \`pm-arb resume\` (or the dashboard's resume). See the runbook: halts.`,
      s.priority,
      now,
      true,
    );
  }

  private exitHalt(how: string, now: number): void {
    const h = this.halt;
    if (!h) return;
    this.halt = undefined;
    const s = this.settings.resume;
    if (!s.enabled) return;
    this.raise(
      'resume',
      'resume',
      'info',
      'Trading resumed',
      `${how}. Halted ${secs(now - h.since)} (${CAUSE_TEXT[h.cause]}).`,
      s.priority,
      now,
      true,
    );
  }

  private addErrors(n: number, source: string, now: number): void {
    const s = this.settings.errorBurst;
    const window = s.windowS * 1000;
    this.errors.push({ ts: now, n, source });
    this.errors = this.errors.filter((e) => now - e.ts < window);
    const total = this.errors.reduce((a, e) => a + e.n, 0);
    if (!s.enabled || total < s.count) return;
    const by = new Map<string, number>();
    for (const e of this.errors) by.set(e.source, (by.get(e.source) ?? 0) + e.n);
    const parts = [...by].map(([src, k]) => `${k} ${src}`).join(', ');
    this.raise(
      'error_burst',
      'error_burst',
      'warning',
      `Error burst: ${total} in ${s.windowS} s`,
      `${parts}. Messages that keep failing go to the dead-letter channels; read the agents' logs (the "handler failed" lines).`,
      s.priority,
      now,
    );
  }

  private checkDailySummary(now: number): void {
    const s = this.settings.dailySummary;
    if (this.nextSummaryAt === undefined) {
      const start = Math.floor(now / DAY) * DAY + s.hourUtc * HOUR;
      this.nextSummaryAt = start > now ? start : start + DAY;
      return;
    }
    if (now < this.nextSummaryAt) return;
    const d = this.day;
    const eq = this.equity;
    this.nextSummaryAt += Math.ceil((now - this.nextSummaryAt + 1) / DAY) * DAY;
    this.day = { startEquity: eq?.equity, fills: 0, trades: 0, fees: 0, legRiskCost: 0, halts: 0 };
    if (!s.enabled) return;
    const pnl = eq && d.startEquity !== undefined ? eq.equity - d.startEquity : undefined;
    const lines = [
      pnl !== undefined
        ? `P&L ${usd(pnl)} (equity ${usd(d.startEquity!)} → ${usd(eq!.equity)})`
        : 'P&L: no equity seen yet',
      `trades ${d.trades}, fills ${d.fills}, fees ${usd(d.fees)}, leg-risk cost ${usd(d.legRiskCost)}`,
      eq
        ? `cash ${usd(eq.cash)}, positions ${usd(eq.positionsValue)}, high-water mark ${usd(eq.highWaterMark)}`
        : '',
      d.halts > 0 ? `halts ${d.halts}` : '',
      this.halt ? `HALTED now (${CAUSE_TEXT[this.halt.cause]})` : '',
    ].filter(Boolean);
    this.raise(
      'daily_summary',
      `daily_summary:${now}`,
      'info',
      'Daily summary',
      lines.join('\n'),
      s.priority,
      now,
    );
  }

  /** Runs the gate; returns true when the alert goes out. */
  private raise(
    kind: AlertKind,
    key: string,
    level: AlertLevel,
    title: string,
    body: string,
    priority: number,
    now: number,
    essential = false,
    id?: string,
  ): boolean {
    this.stats.raised++;
    const c: AlertCandidate = {
      id: id ?? `${key}@${now}#${++this.seq}`,
      kind,
      key,
      level,
      title,
      body,
      priority,
      ts: now,
      ...(priority === 2
        ? { emergency: { retryS: this.settings.halt.retryS, expireS: this.settings.halt.expireS } }
        : {}),
      ...(essential ? { essential } : {}),
    };
    const verdict = this.gate.check(c, now);
    if (verdict === 'duplicate') {
      this.stats.duplicates++;
      return false;
    }
    if (verdict === 'rate_limited') this.stats.rateLimited++;
    else this.stats.sent++;
    this.emit(c, verdict);
    return verdict === 'send';
  }
}
