import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../../src/app/assemble.ts';
import { type Kernel, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
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
});
