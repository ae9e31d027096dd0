/**
 * The alerts agent around its store, on a simulated clock (delivery on, to a fake webhook): a restart while
 * halted keeps the halt (no second halt alert) and the dedupe window (no second "feed down"), settings changed in
 * the table take effect, and with the store unreachable it still alerts on defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertsAgent } from '../../src/agents/alerts.ts';
import { readAlertLog } from '../../src/alerts/log.ts';
import { webhookChannel } from '../../src/alerts/notifier.ts';
import { AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Heartbeat } from '../../src/core/messages.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { setAlertSetting } from '../../src/store/queries.ts';
import { startFakeWebhook } from '../fakes/pushover-server.ts';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

describe('alerts agent and its store', () => {
  let hook: Awaited<ReturnType<typeof startFakeWebhook>>;
  let db: Db;
  beforeAll(async () => {
    hook = await startFakeWebhook();
    db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await hook.close();
  });

  function kernel(clock: SimClock, env: Record<string, string> = {}): Kernel {
    return {
      config: loadConfig(env),
      bus: createInProcBus({ name: 'alerts-test', clock }),
      clock,
      log: silentLogger(),
      ids: createIds('alerts-test'),
      instance: 'alerts-test',
    };
  }
  const kinds = () => hook.bodies.map((b) => (b.body.alert as { kind: string }).kind);
  const feedHb = (ts: number, connected: boolean): Heartbeat => ({
    type: 'heartbeat',
    agent: 'venue-watcher-kalshi',
    instance: 'w-1',
    state: 'running',
    pid: 1,
    host: 'h',
    ts,
    details: { connected, lastMessageAgeMs: connected ? 10 : null },
  });

  async function boot(
    clock: SimClock,
    opts: Parameters<typeof createAlertsAgent>[0],
    env?: Record<string, string>,
  ) {
    const k = kernel(clock, env);
    const agent = createAlertsAgent({
      channels: [webhookChannel(hook.url)],
      deliverOnSimClock: true,
      ...opts,
    });
    const rt = new AgentRuntime(k, agent, { heartbeatMs: 5_000 });
    await rt.start();
    const settle = async () => {
      await k.bus.idle();
      await agent.flush();
    };
    /** Moves the clock to `until` in 5 s steps, the feed sending a heartbeat at each (as a live watcher does). */
    const feedUntil = async (until: number, connected: boolean) => {
      while (clock.now() < until) {
        clock.advanceTo(Math.min(until, clock.now() + 5_000));
        k.bus.publish(channels.health, feedHb(clock.now(), connected));
        await settle();
      }
    };
    return { k, agent, rt, settle, feedUntil };
  }

  it('a restart keeps the halt and the dedupe window; settings from the table apply', async () => {
    const clock = new SimClock(T0);
    const a = await boot(clock, { db });
    a.k.bus.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'maintenance',
      issuedBy: 'cli',
      issuedAt: clock.now(),
    });
    a.k.bus.publish(channels.health, feedHb(clock.now(), false));
    await a.settle();
    await a.feedUntil(T0 + 65_000, false);
    expect(kinds()).toEqual(['halt', 'feed_down']);
    await a.rt.stop();

    const b = await boot(clock, { db });
    // still halted: the guardian's kill-switch rejections are the same halt
    b.k.bus.publish(channels.riskDecisions, {
      type: 'risk_decision',
      id: 'd1',
      requestId: 'r1',
      strategy: 's',
      verdict: 'reject',
      rule: 'kill_switch',
      reason: 'HALT_ALL in force',
      legs: [],
      tif: 'IOC',
      decidedAt: clock.now(),
    });
    // the feed is still down, seen afresh by the new process: within the window, no second alert
    await b.feedUntil(T0 + 140_000, false);
    expect(kinds()).toEqual(['halt', 'feed_down']);

    // a setting changed in the table (as the dashboard does) is read within 10 s of clock time
    await setAlertSetting(db, 'largeFill', { notionalUsd: '1' }, clock.now());
    await b.feedUntil(T0 + 151_000, false);
    b.k.bus.publish(channels.fills, {
      type: 'fill',
      id: 'f1',
      orderId: 'o',
      requestId: 'r',
      strategy: 's',
      venue: 'kalshi',
      marketId: 'M',
      tokenId: 'M:yes',
      side: 'buy',
      price: 500_000,
      shares: 4_000_000,
      fee: 0,
      liquidity: 'taker',
      kind: 'trade',
      ts: clock.now(),
    });
    b.k.bus.publish(channels.system, {
      type: 'system',
      command: 'RESUME',
      reason: 'done',
      issuedBy: 'cli',
      issuedAt: clock.now(),
    });
    await b.settle();
    expect(kinds()).toEqual(['halt', 'feed_down', 'large_fill', 'resume']);
    const log = await readAlertLog(db);
    // newest first (resume and the fill share a timestamp; ids break the tie)
    expect(log.map((r) => [r.kind, r.status])).toEqual([
      ['resume', 'sent'],
      ['large_fill', 'sent'],
      ['feed_down', 'sent'],
      ['halt', 'sent'],
    ]);
    await b.rt.stop();
  });

  it('with the store unreachable it runs on defaults and still alerts', async () => {
    const before = hook.bodies.length;
    const clock = new SimClock(T0);
    const c = await boot(clock, {}, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    c.k.bus.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'fault: executor',
      issuedBy: 'executor',
      issuedAt: clock.now(),
    });
    await c.settle();
    const got = hook.bodies.slice(before).map((b) => b.body.alert as { kind: string; title: string });
    expect(got).toEqual([expect.objectContaining({ kind: 'halt', title: 'Trading HALTED: fault' })]);
    expect(c.agent.health()).toMatchObject({ store: null, sent: 1 });
    await c.rt.stop();
  });
});
