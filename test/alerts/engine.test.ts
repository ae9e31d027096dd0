/**
 * The alert engine on a simulated timeline: what raises an alert, what is the same alert again, what is
 * rate-limited, and the settings that switch rules off or move thresholds.
 */
import { describe, expect, it } from 'vitest';
import { type AlertCandidate, AlertEngine, type GateVerdict, haltCause } from '../../src/alerts/engine.ts';
import { type AlertSettings, DEFAULT_ALERT_SETTINGS, parseAlertSettings } from '../../src/alerts/settings.ts';
import type { Heartbeat, RiskDecision, SystemCommand } from '../../src/core/messages.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function setup(settings: AlertSettings = DEFAULT_ALERT_SETTINGS) {
  const out: { c: AlertCandidate; verdict: Exclude<GateVerdict, 'duplicate'> }[] = [];
  const engine = new AlertEngine({ settings, emit: (c, verdict) => out.push({ c, verdict }) });
  const kinds = () => out.map((o) => o.c.kind);
  return { engine, out, kinds };
}

const decision = (
  rule: string,
  decidedAt: number,
  verdict: RiskDecision['verdict'] = 'reject',
): RiskDecision => ({
  type: 'risk_decision',
  id: `d-${decidedAt}-${rule}`,
  requestId: `r-${decidedAt}`,
  strategy: 's',
  verdict,
  rule,
  reason: rule === 'drawdown_stop' ? 'equity $390 is 22% below its high-water mark $500 (limit 20%)' : rule,
  legs: [],
  tif: 'IOC',
  decidedAt,
});
const cmd = (
  command: SystemCommand['command'],
  at: number,
  reason = 'x',
  issuedBy = 'cli',
): SystemCommand => ({
  type: 'system',
  command,
  reason,
  issuedBy,
  issuedAt: at,
});
const hb = (
  agent: string,
  ts: number,
  details: Heartbeat['details'] = {},
  state: Heartbeat['state'] = 'running',
): Heartbeat => ({
  type: 'heartbeat',
  agent,
  instance: `${agent}-host-1`,
  state,
  pid: 1,
  host: 'host',
  ts,
  details,
});

describe('halts', () => {
  it('one halt alert per halt, whatever repeats it; one resume notice; emergency priority with retry/expire', () => {
    const { engine, out, kinds } = setup();
    engine.onDecision(decision('drawdown_stop', T0), T0);
    engine.onDecision(decision('drawdown_stop', T0 + 10), T0 + 10);
    engine.onSystem(cmd('HALT_ALL', T0 + 20, 'operator'), T0 + 20);
    engine.onDecision(decision('kill_switch', T0 + 30), T0 + 30);
    expect(kinds()).toEqual(['halt']);
    expect(out[0]!.c).toMatchObject({
      title: 'Trading HALTED: drawdown stop',
      priority: 2,
      level: 'critical',
      emergency: { retryS: 60, expireS: 3600 },
    });
    expect(engine.stats.repeatedHalts).toBe(3);
    engine.onSystem(cmd('RESUME', T0 + 1000), T0 + 1000);
    // a rejection the guardian decided before it saw the RESUME is not a new halt
    engine.onDecision(decision('drawdown_stop', T0 + 999), T0 + 1001);
    expect(kinds()).toEqual(['halt', 'resume']);
    expect(out[1]!.c.body).toContain('RESUME by cli');
    // a second RESUME with nothing halted says nothing
    engine.onSystem(cmd('RESUME', T0 + 2000), T0 + 2000);
    expect(kinds()).toEqual(['halt', 'resume']);
  });

  it('a new halt after the guardian resumed is alerted again (not deduplicated by the window)', () => {
    const { engine, kinds } = setup();
    engine.onSystem(cmd('HALT_ALL', T0, 'maintenance'), T0);
    engine.onSystem(cmd('RESUME', T0 + 100), T0 + 100);
    engine.onDecision(decision('ok', T0 + 200, 'approve'), T0 + 200); // the guardian trades again
    engine.onDecision(decision('drawdown_stop', T0 + 300), T0 + 300);
    expect(kinds()).toEqual(['halt', 'resume', 'halt']);
  });

  it('the daily-loss stop lifts itself when the window reopens', () => {
    const { engine, out, kinds } = setup();
    engine.onDecision(decision('daily_loss', T0), T0);
    engine.onDecision(decision('daily_loss', T0 + 1), T0 + 1);
    engine.onDecision(decision('min_edge', T0 + 5000), T0 + 5000);
    expect(kinds()).toEqual(['halt', 'resume']);
    expect(out[0]!.c.title).toBe('Trading HALTED: daily-loss limit');
    expect(out[1]!.c.body).toContain('daily-loss window reopened');
  });

  it('names the cause of a HALT_ALL', () => {
    expect(haltCause({ reason: 'drawdown 21%', issuedBy: 'risk-guardian' })).toBe('drawdown');
    expect(haltCause({ reason: 'daily loss limit', issuedBy: 'x' })).toBe('daily_loss');
    expect(haltCause({ reason: 'invariant broke: naked short', issuedBy: 'executor' })).toBe('fault');
    expect(haltCause({ reason: 'maintenance', issuedBy: 'cli' })).toBe('manual');
  });
});

describe('agents and feeds', () => {
  it('a silent agent after afterS, once; back when it returns; a clean stop is no outage', () => {
    const { engine, kinds } = setup();
    engine.onHeartbeat(hb('executor', T0), T0);
    engine.onHeartbeat(hb('persister', T0), T0);
    engine.onHeartbeat(hb('persister', T0 + 5_000, {}, 'stopped'), T0 + 5_000);
    engine.tick(T0 + 29_000);
    expect(kinds()).toEqual([]);
    engine.tick(T0 + 30_000);
    engine.tick(T0 + 60_000);
    expect(kinds()).toEqual(['agent_silent']);
    engine.onHeartbeat(hb('executor', T0 + 61_000), T0 + 61_000);
    expect(kinds()).toEqual(['agent_silent', 'agent_back']);
  });

  it('a faulted agent is critical at once', () => {
    const { engine, out } = setup();
    engine.onHeartbeat(hb('executor', T0), T0);
    engine.onHeartbeat(hb('executor', T0 + 1, {}, 'faulted'), T0 + 1);
    engine.onHeartbeat(hb('executor', T0 + 2, {}, 'faulted'), T0 + 2);
    expect(out.map((o) => [o.c.kind, o.c.level])).toEqual([['agent_faulted', 'critical']]);
  });

  it('a flapping feed never storms: down only after afterS continuously, repeats deduplicated', () => {
    const { engine, kinds } = setup();
    const feed = (t: number, connected: boolean) =>
      engine.onHeartbeat(
        hb('venue-watcher-kalshi', t, { connected, lastMessageAgeMs: connected ? 100 : null }),
        t,
      );
    // flapping every 10 s for 5 minutes: never down for 60 s in a row
    for (let t = 0; t < 300_000; t += 5_000) {
      feed(T0 + t, Math.floor(t / 10_000) % 2 === 0);
      engine.tick(T0 + t);
    }
    expect(kinds()).toEqual([]);
    // down for good: one alert after 60 s
    for (let t = 300_000; t < 420_000; t += 5_000) {
      feed(T0 + t, false);
      engine.tick(T0 + t);
    }
    expect(kinds()).toEqual(['feed_down']);
    feed(T0 + 420_000, true);
    // down again at once, for long: within the dedupe window (15 min) no second down alert, and so no second up
    for (let t = 425_000; t < 600_000; t += 5_000) {
      feed(T0 + t, false);
      engine.tick(T0 + t);
    }
    feed(T0 + 600_000, true);
    expect(kinds()).toEqual(['feed_down', 'feed_up']);
  });

  it('a connected feed with no data for afterS is down too', () => {
    const { engine, out } = setup();
    engine.onHeartbeat(hb('oracle-binance', T0, { connected: true, lastMessageAgeMs: 61_000 }), T0);
    engine.tick(T0 + 1_000);
    expect(out[0]!.c.body).toContain('no data for 61 s');
  });
});

describe('trading events', () => {
  it('leg-risk unwinds and large fills, by threshold', () => {
    const settings = parseAlertSettings({
      largeFill: { notionalUsd: '50' },
      legRisk: { minCostUsd: '0.10' },
    }).settings;
    const { engine, kinds, out } = setup(settings);
    const report = (legRiskCost: number, status: 'unwound' | 'filled') =>
      engine.onExecution(
        {
          type: 'execution_report',
          id: `e${legRiskCost}`,
          requestId: `r${legRiskCost}`,
          strategy: 'cross-venue-arb',
          status,
          fills: 2,
          legRiskCost,
          fees: 0,
          ts: T0,
        },
        T0,
      );
    report(50_000, 'unwound'); // $0.05: below the threshold
    report(250_000, 'unwound');
    report(0, 'filled');
    const fill = (id: string, price: number, shares: number, kind: 'trade' | 'settlement' = 'trade') =>
      engine.onFill(
        {
          type: 'fill',
          id,
          orderId: 'o',
          requestId: 'r',
          strategy: 's',
          venue: 'kalshi',
          marketId: 'M',
          tokenId: 'M:yes',
          side: 'buy',
          price,
          shares,
          fee: 10_000,
          liquidity: 'taker',
          kind,
          ts: T0,
        },
        T0,
      );
    fill('f1', 500_000, 99_000_000); // $49.50
    fill('f2', 500_000, 100_000_000); // $50.00
    fill('f3', 1_000_000, 900_000_000, 'settlement');
    expect(kinds()).toEqual(['leg_risk', 'large_fill']);
    expect(out[0]!.c.body).toContain('$0.25');
    expect(out[1]!.c.title).toBe('Large fill $50 on kalshi');
  });

  it('error bursts from failed handlers and dead letters, within the window', () => {
    const { engine, out } = setup(parseAlertSettings({ errorBurst: { count: 5, windowS: 10 } }).settings);
    engine.onHeartbeat(hb('executor', T0, { failed: 0 }), T0);
    engine.onHeartbeat(hb('executor', T0 + 1000, { failed: 3 }), T0 + 1000);
    engine.onDeadLetter(
      {
        type: 'dead_letter',
        channel: 'pmarb.fills',
        group: 'g',
        messageId: 'm',
        attempts: 3,
        error: 'e',
        body: null,
        ts: T0,
      },
      T0 + 20_000,
    );
    expect(out).toHaveLength(0); // 3 + 1, and the 3 are out of the window
    engine.onHeartbeat(hb('executor', T0 + 21_000, { failed: 7 }), T0 + 21_000);
    expect(out.map((o) => o.c.title)).toEqual(['Error burst: 5 in 10 s']);
    expect(out[0]!.c.body).toContain('4 executor failed handlers');
    expect(out[0]!.c.body).toContain('1 dead letters on pmarb.fills');
  });

  it('reconciliation mismatches, severe ones critical', () => {
    const { engine, out } = setup();
    engine.onReconciliation(
      {
        type: 'reconciliation_mismatch',
        id: 'rec-1',
        venue: 'kalshi',
        kind: 'position',
        marketId: 'X',
        tokenId: 'X:yes',
        unit: 'shares',
        venueValue: 10_000_000,
        ourValue: 12_000_000,
        diff: -2_000_000,
        halt: true,
        ts: T0,
      },
      T0,
    );
    expect(out[0]!.c).toMatchObject({ kind: 'reconciliation', level: 'critical', priority: 1 });
    expect(out[0]!.c.body).toContain('venue 10, ours 12 shares');
  });

  it("daily summary at the configured hour with the day's P&L, trades and equity", () => {
    const { engine, out } = setup(parseAlertSettings({ dailySummary: { hourUtc: 13 } }).settings);
    const eq = (equity: number, t: number) =>
      engine.onEquity(
        {
          type: 'equity',
          cash: equity,
          positionsValue: 0,
          equity,
          realizedPnl: 0,
          unrealizedPnl: 0,
          highWaterMark: 510_000_000,
          ts: t,
        },
        t,
      );
    eq(500_000_000, T0);
    engine.onExecution(
      {
        type: 'execution_report',
        id: 'e',
        requestId: 'r',
        strategy: 's',
        status: 'filled',
        fills: 1,
        legRiskCost: 0,
        fees: 0,
        ts: T0,
      },
      T0,
    );
    eq(512_345_000, T0 + 3_599_000);
    expect(out).toHaveLength(0);
    engine.tick(T0 + 3_600_000);
    expect(out.map((o) => o.c.kind)).toEqual(['daily_summary']);
    expect(out[0]!.c.body).toContain('P&L $12.345 (equity $500 → $512.345)');
    expect(out[0]!.c.body).toContain('trades 1');
    engine.tick(T0 + 3_700_000);
    expect(out).toHaveLength(1);
  });
});

describe('gate and settings', () => {
  it('rate-limits ordinary alerts (burst, then refill) but never halts', () => {
    const { engine, out } = setup(parseAlertSettings({ delivery: { burst: 2, maxPerHour: 60 } }).settings);
    for (let i = 0; i < 4; i++)
      engine.onBusAlert({ type: 'alert', level: 'warning', title: `t${i}`, body: 'b', ts: T0 }, T0);
    engine.onSystem(cmd('HALT_ALL', T0), T0);
    engine.onBusAlert({ type: 'alert', level: 'warning', title: 'later', body: 'b', ts: T0 }, T0 + 60_000);
    expect(out.map((o) => `${o.c.kind}:${o.verdict}`)).toEqual([
      'bus_alert:send',
      'bus_alert:send',
      'bus_alert:rate_limited',
      'bus_alert:rate_limited',
      'halt:send',
      'bus_alert:send',
    ]);
  });

  it('disabled rules stay quiet; invalid stored values fall back to defaults with a reason', () => {
    const parsed = parseAlertSettings({
      halt: { enabled: false },
      largeFill: { notionalUsd: 'lots' },
      unknownKey: 1,
    });
    expect(parsed.settings.halt.enabled).toBe(false);
    expect(parsed.settings.halt.priority).toBe(2);
    expect(parsed.settings.largeFill.notionalUsd).toBe('100');
    expect(parsed.problems).toEqual([
      expect.stringContaining('alert setting "largeFill": notionalUsd a dollar amount'),
    ]);
    const { engine, out } = setup(parsed.settings);
    engine.onSystem(cmd('HALT_ALL', T0), T0);
    expect(out).toHaveLength(0);
    expect(engine.halted).toBe(true);
  });

  it('bus alerts below the minimum level are not forwarded; their bus id is kept', () => {
    const { engine, out } = setup();
    engine.onBusAlert({ type: 'alert', level: 'info', title: 'i', body: 'b', ts: T0 }, T0, 'm-1');
    engine.onBusAlert(
      { type: 'alert', level: 'critical', title: 'fault: executor', body: 'naked short', ts: T0 },
      T0,
      'm-2',
    );
    expect(out.map((o) => [o.c.id, o.c.priority])).toEqual([['m-2', 1]]);
  });
});
