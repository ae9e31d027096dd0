/**
 * The alerts agent: watches the system's events (HALT_ALL/RESUME, risk decisions, heartbeats, execution
 * reports, fills, reconciliation mismatches, dead letters, equity, alerts other agents raise), decides what a
 * person must hear about (src/alerts/engine.ts, rules and thresholds from the alert_settings table), and sends
 * it through Pushover and a webhook (src/alerts/notifier.ts). Every alert it handles is written to alert_log with
 * its delivery result.
 *
 * It never slows trading: its handlers only update the engine and queue; sending happens on the notifier's own
 * bounded queue, and a dead notifier or database only costs alerts, logged. On a simulated clock (backtest,
 * replay) nothing is sent unless asked for: a replay must never page anyone.
 */

import { type AlertCandidate, AlertEngine, haltCause } from '../alerts/engine.ts';
import { alertRestartState, type LogStatus, writeAlertLog } from '../alerts/log.ts';
import {
  type AlertChannel,
  channelsFromConfig,
  createNotifier,
  type DeliveryReport,
  type Notifier,
  type NotifierOptions,
} from '../alerts/notifier.ts';
import {
  type AlertSettings,
  DEFAULT_ALERT_SETTINGS,
  loadAlertSettings,
  seedAlertSettings,
} from '../alerts/settings.ts';
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { type Channel, channels } from '../core/channels.ts';
import type { TimerHandle } from '../core/clock.ts';
import { type Db, errText, openDbFromConfig } from '../store/db.ts';
import { migrate } from '../store/migrations.ts';
import { readSystemState } from '../store/system-state.ts';

export interface AlertsAgentOptions {
  /** The store: undefined → opened from the config (own process); null → none (defaults, no alert log). */
  readonly db?: Db | null;
  /** Where alerts go (default: from the config — Pushover when both keys are set, the webhook when its URL is). */
  readonly channels?: readonly AlertChannel[];
  /** Send even on a simulated clock (default false). */
  readonly deliverOnSimClock?: boolean;
  /** Periodic checks: silent agents, feeds, daily summary (default 1 s of clock time). */
  readonly checkEveryMs?: number;
  /** How often the settings table is read again (default 10 s of clock time). */
  readonly settingsEveryMs?: number;
  readonly notifier?: Partial<Pick<NotifierOptions, 'timeoutMs' | 'retries' | 'backoffMs' | 'queueSize'>>;
}

/** Channels that run dead-letters worth an alert: the trading path and the commands. */
const WATCHED_DLQ = [
  channels.tradeRequests,
  channels.riskDecisions,
  channels.orders,
  channels.fills,
  channels.executions,
  channels.system,
  channels.reconciliation,
];

/** Pending alert-log writes beyond which new ones are dropped (a database outage must not grow memory). */
const MAX_PENDING_LOG = 1_000;
/** Events kept while the store is first read (a start against a slow database). */
const MAX_EARLY = 10_000;

export class AlertsAgent implements Agent {
  readonly name = 'alerts';
  readonly trading = false;
  private readonly opts: AlertsAgentOptions;
  private rt: AgentRuntime | undefined;
  private engine: AlertEngine | undefined;
  private notifier: Notifier | undefined;
  private db: Db | undefined;
  private ownsDb = false;
  private settings: AlertSettings = DEFAULT_ALERT_SETTINGS;
  private readonly timers: TimerHandle[] = [];
  private logChain: Promise<void> = Promise.resolve();
  private pendingLog = 0;
  private readonly counts = { logged: 0, logFailures: 0, logDropped: 0, simulated: 0, settingsProblems: 0 };
  private lastLogError: string | null = null;
  private dbRetry: TimerHandle | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private ready: Promise<void> = Promise.resolve();
  private prepared = false;
  private readonly early: (() => void)[] = [];

  constructor(opts: AlertsAgentOptions = {}) {
    this.opts = opts;
  }

  async start(rt: AgentRuntime): Promise<void> {
    this.rt = rt;
    const deliver = rt.clock.kind === 'wall' || this.opts.deliverOnSimClock === true;
    const chans = this.opts.channels ?? channelsFromConfig(rt.config);
    if (deliver) {
      this.notifier = createNotifier({
        channels: chans,
        onDone: (a, report) => this.record(a, report.status, report.results),
        ...this.opts.notifier,
      });
      if (chans.length === 0)
        rt.log.warn(
          'alerts: no channel configured (set PUSHOVER_USER_KEY + PUSHOVER_API_TOKEN and/or ALERT_WEBHOOK_URL); alerts are only logged',
        );
    }
    this.engine = new AlertEngine({
      settings: this.settings,
      emit: (c, verdict) => this.onAlert(c, verdict),
    });

    // The store (settings, what was sent before a restart, a halt in force) is read in the background: start
    // never waits on a database. Events that arrive meanwhile wait, in order, and are handled once it is read.
    this.ready = (async () => {
      if (this.opts.db) this.db = this.opts.db;
      else if (this.opts.db === undefined) await this.openOwnDb();
      if (this.db) await this.prepareStore(this.db);
    })().then(() => {
      this.prepared = true;
      for (const f of this.early.splice(0)) f();
      rt.log.info(
        { channels: chans.map((c) => c.name), deliver, store: this.db?.backend ?? null },
        'alerts running',
      );
    });

    const e = this.engine;
    const now = (): number => rt.clock.now();
    const on = <T>(ch: Channel<T>, fn: (body: T, t: number, id: string) => void): void => {
      rt.subscribe(ch, (m) => {
        const t = now();
        if (this.prepared) fn(m.body, t, m.id);
        else if (this.early.length < MAX_EARLY) this.early.push(() => fn(m.body, t, m.id));
      });
    };
    on(channels.system, (b, t) => e.onSystem(b, t));
    on(channels.riskDecisions, (b, t) => e.onDecision(b, t));
    on(channels.health, (b, t) => e.onHeartbeat(b, t));
    on(channels.executions, (b, t) => e.onExecution(b, t));
    on(channels.fills, (b, t) => e.onFill(b, t));
    on(channels.equity, (b, t) => e.onEquity(b, t));
    on(channels.reconciliation, (b, t) => e.onReconciliation(b, t));
    on(channels.alerts, (b, t, id) => e.onBusAlert(b, t, id));
    for (const ch of WATCHED_DLQ) on(channels.deadLetter(ch), (b, t) => e.onDeadLetter(b, t));

    this.timers.push(
      rt.clock.every(this.opts.checkEveryMs ?? 1_000, () => {
        if (this.prepared) e.tick(now());
      }),
    );
    this.timers.push(
      rt.clock.every(this.opts.settingsEveryMs ?? 10_000, () => {
        this.reloading = this.reloadSettings();
      }),
    );
  }

  /** Resolves when a settings reload under way is done and every alert raised so far is delivered and logged. */
  async flush(): Promise<void> {
    await this.ready;
    await this.reloading;
    await this.notifier?.idle();
    await this.logChain;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) t.cancel();
    await this.ready;
    this.dbRetry?.cancel();
    await this.notifier?.close(3_000);
    // what the store has not taken within 2 s is lost with a warning in the log, never a hang at shutdown
    const written = await Promise.race([
      this.logChain.then(() => true),
      new Promise<boolean>((r) => this.rt?.clock.after(2_000, () => r(false)) ?? r(false)),
    ]);
    if (!written)
      this.rt?.log.warn({ pending: this.pendingLog }, 'alerts: alert-log rows not written at shutdown');
    if (this.ownsDb) await this.db?.close().catch(() => {});
  }

  health(): HealthDetails {
    const s = this.engine?.stats;
    const n = this.notifier?.stats();
    return {
      channels: this.notifier ? this.notifier.channels.join(',') : 'off',
      halted: this.engine?.halted ?? false,
      raised: s?.raised ?? 0,
      sent: n?.sent ?? 0,
      failed: n?.failed ?? 0,
      dropped: n?.dropped ?? 0,
      queued: n?.queued ?? 0,
      duplicates: s?.duplicates ?? 0,
      rateLimited: s?.rateLimited ?? 0,
      repeatedHalts: s?.repeatedHalts ?? 0,
      ...this.counts,
      lastLogError: this.lastLogError,
      store: this.db?.backend ?? null,
    };
  }

  // ----------------------------------------------------------------------------------------------- internals

  private onAlert(c: AlertCandidate, verdict: 'send' | 'rate_limited'): void {
    const rt = this.rt!;
    rt.log.warn({ alert: c.kind, key: c.key, title: c.title, verdict }, 'alert');
    if (verdict === 'rate_limited') {
      this.record(c, 'rate_limited', []);
      return;
    }
    if (!this.notifier) {
      this.counts.simulated++;
      this.record(c, 'simulated', []);
      return;
    }
    const only = [
      ...(this.settings.delivery.pushover ? ['pushover'] : []),
      ...(this.settings.delivery.webhook ? ['webhook'] : []),
    ];
    this.notifier.enqueue(c, only);
  }

  /** Appends to the alert log, in order, without ever making the caller wait. */
  private record(alert: AlertCandidate, status: LogStatus, results: DeliveryReport['results']): void {
    const db = this.db;
    if (status === 'failed' || status === 'partial' || status === 'dropped')
      this.rt?.log.warn({ alert: alert.kind, status, results }, 'alert delivery incomplete');
    if (!db) return;
    if (this.pendingLog >= MAX_PENDING_LOG) {
      this.counts.logDropped++;
      return;
    }
    this.pendingLog++;
    const deliveredAt = this.rt!.clock.now();
    this.logChain = this.logChain.then(async () => {
      try {
        await writeAlertLog(db, { alert, status, delivery: results, deliveredAt });
        this.counts.logged++;
      } catch (err) {
        this.counts.logFailures++;
        this.lastLogError = errText(err);
      } finally {
        this.pendingLog--;
      }
    });
  }

  private async openOwnDb(): Promise<void> {
    const rt = this.rt!;
    try {
      this.db = await openDbFromConfig(rt.config);
      this.ownsDb = true;
      await migrate(this.db);
    } catch (err) {
      // alerts matter most when something is down: run on defaults and try the store again later
      rt.log.warn(
        { err: errText(err) },
        'alerts: store unavailable; default settings, no alert log until it returns',
      );
      await this.db?.close().catch(() => {});
      this.db = undefined;
      this.ownsDb = false;
      this.dbRetry = rt.clock.after(60_000, () => {
        void this.openOwnDb().then(() => (this.db ? this.prepareStore(this.db) : undefined));
      });
    }
  }

  private async prepareStore(db: Db): Promise<void> {
    const rt = this.rt!;
    const now = rt.clock.now();
    try {
      await seedAlertSettings(db, now);
      await this.reloadSettings();
      const restart = await alertRestartState(db, now, this.settings.delivery.dedupeWindowS * 1000);
      let halt = restart.halt;
      if (!halt) {
        const sys = await readSystemState(db);
        if (sys.halted)
          halt = {
            cause: haltCause({ reason: sys.haltReason ?? '', issuedBy: sys.haltedBy ?? '' }),
            reason: sys.haltReason ?? '',
            since: sys.haltedAt ?? now,
          };
      }
      this.engine!.restore({ sent: restart.sent, ...(halt ? { halt } : {}) });
    } catch (err) {
      rt.log.warn(
        { err: errText(err) },
        'alerts: could not read settings/state from the store; using defaults',
      );
    }
  }

  private async reloadSettings(): Promise<void> {
    if (!this.db) return;
    try {
      const { settings, problems } = await loadAlertSettings(this.db);
      if (problems.length > 0) {
        this.counts.settingsProblems = problems.length;
        this.rt?.log.warn(
          { problems },
          'alerts: invalid alert settings ignored (defaults used for those keys)',
        );
      }
      this.settings = settings;
      this.engine?.setSettings(settings);
    } catch (err) {
      this.rt?.log.debug({ err: errText(err) }, 'alerts: settings reload failed');
    }
  }
}

export const createAlertsAgent = (opts: AlertsAgentOptions = {}): AlertsAgent => new AlertsAgent(opts);
