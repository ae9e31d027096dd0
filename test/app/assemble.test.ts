import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_CATALOGUE, agentProcessMode, assemble } from '../../src/app/assemble.ts';
import { createCaptureHub } from '../../src/capture/source.ts';
import { type Kernel, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { Heartbeat } from '../../src/core/messages.ts';
import { simKernel } from '../agents/feed-helpers.ts';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.bus.close();
  kernel = undefined;
});

describe('assemble', () => {
  it('builds the feed agents for live feeds without connecting anything', async () => {
    kernel = simKernel(0).kernel;
    const { agents } = await assemble(kernel, { feeds: 'live' });
    // the consumers start first (nothing a feed publishes at start is missed); the feeds come last
    expect(agents.map((a) => a.name)).toEqual([
      'market-matcher',
      'opportunity-scanner',
      'strategy-runner',
      'risk-guardian',
      'executor',
      'capital-allocator',
      'alerts',
      'venue-watcher-polymarket',
      'venue-watcher-kalshi',
      'oracle-binance',
      'oracle-chainlink',
    ]);
    expect(agents.slice(-4).every((a) => !a.trading)).toBe(true);
  });

  it('runs the simulated feeds on a SimClock: heartbeats report connected feeds with no rejected frames', async () => {
    const start = Date.UTC(2026, 10, 26, 14, 0, 0);
    const sk = simKernel(start);
    kernel = sk.kernel;
    const beats: Heartbeat[] = [];
    kernel.bus.subscribe(channels.health, { group: 'test' }, (m) => {
      beats.push(m.body);
    });
    const all = (await assemble(kernel, { feeds: 'sim', seed: 9, only: ['kalshi', 'binance'] })).agents;
    const agents = all.filter((a) => /^(venue-watcher|oracle)-/.test(a.name));
    expect(agents.map((a) => a.name)).toEqual(['venue-watcher-kalshi', 'oracle-binance']);
    const { stop } = await startAgents(kernel, agents, { heartbeatMs: 5_000 });
    for (let t = start; t <= start + 12_000; t += 250) {
      sk.clock.advanceTo(t);
      await kernel.bus.idle();
    }
    await stop();
    await kernel.bus.idle();
    const last = new Map(beats.filter((b) => b.state === 'running').map((b) => [b.agent, b.details]));
    expect(last.get('venue-watcher-kalshi')).toMatchObject({ connected: true, framesRejected: 0 });
    expect(Number(last.get('venue-watcher-kalshi')!.books)).toBeGreaterThan(10);
    expect(last.get('oracle-binance')).toMatchObject({ connected: true, framesRejected: 0, ticks: 2 });
    expect(beats.at(-1)!.state).toBe('stopped');
  });

  it('builds one list for every mode: a backtest runs the agents of run, on the capture, without alerts', async () => {
    kernel = simKernel(0).kernel;
    const run = (await assemble(kernel, { feeds: 'sim' })).agents.map((a) => a.name);
    const hub = createCaptureHub({ frames: [], clock: new SimClock(0) });
    const bt = await assemble(kernel, { feeds: 'capture', capture: hub, offline: true });
    expect(bt.agents.map((a) => a.name)).toEqual(run.filter((n) => n !== 'alerts'));
    expect(bt.feeds.map((f) => f.name)).toEqual(run.filter((n) => /^(venue-watcher|oracle)-/.test(n)));
    // replay: the feed agents alone
    const replay = await assemble(kernel, { feeds: 'capture', capture: hub, agents: 'feeds' });
    expect(replay.agents.map((a) => a.name)).toEqual(bt.feeds.map((f) => f.name));
  });

  it('builds the one agent `pm-arb agent <name>` asks for, with its options; bad options are errors', async () => {
    kernel = simKernel(0).kernel;
    const one = async (name: string, o: Record<string, string> = {}) =>
      (await assemble(kernel!, agentProcessMode(name, o))).agents.map((a) => a.name);
    expect(await one('venue-watcher', { venue: 'kalshi' })).toEqual(['venue-watcher-kalshi']);
    expect(await one('oracle', { source: 'chainlink', feeds: 'live' })).toEqual(['oracle-chainlink']);
    expect(await one('executor', { latencyMs: '5' })).toEqual(['executor']);
    expect(await one('loadgen', { count: '1', rate: '1' })).toEqual(['loadgen']);
    await expect(one('venue-watcher')).rejects.toThrow(/--opt venue=polymarket or --opt venue=kalshi/);
    expect(() => agentProcessMode('oracle', { feeds: 'capture' })).toThrow(/feeds must be sim or live/);
    // the simulator's world, the same in every feed process given the same options
    expect(agentProcessMode('venue-watcher', { markets: '4', mispricingRate: '30' }).sim).toEqual({
      markets: 4,
      mispricingRate: 30,
    });
    expect(agentProcessMode('venue-watcher', {}).sim).toBeUndefined();
    expect(() => agentProcessMode('oracle', { mispricingRate: 'lots' })).toThrow(/mispricingRate must be/);
    await expect(assemble(kernel, { feeds: 'sim', agents: ['nobody'] })).rejects.toThrow(/unknown agent/);
    // catalogue names are unique (they are the `pm-arb agent` names)
    expect(new Set(AGENT_CATALOGUE.map((s) => s.name)).size).toBe(AGENT_CATALOGUE.length);
  });
});
