import { afterEach, describe, expect, it } from 'vitest';
import { createOracleAgent } from '../../src/agents/oracle-agent.ts';
import { AgentRuntime, type Kernel } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { OracleTick } from '../../src/core/messages.ts';
import { parseE8 } from '../../src/core/money.ts';
import type { Decoder } from '../../src/feeds/types.ts';
import { createFeedDecoders } from '../../src/venues/registry.ts';
import { createSimHub } from '../../src/venues/sim/feed.ts';
import { scriptedSource, simKernel } from './feed-helpers.ts';

/** A minimal oracle decoder on the seam: `{symbol, price}` frames → ticks (the agent does not care which). */
const tickDecoder: Decoder = {
  sources: ['chainlink.ws'],
  decode(frame, sink) {
    const d = frame.data as { symbol?: unknown; price?: unknown };
    if (typeof d?.symbol !== 'string' || typeof d.price !== 'string') {
      sink.reject(frame.source, 'not a price frame');
      return;
    }
    sink.emit({
      type: 'tick',
      source: 'chainlink',
      symbol: d.symbol,
      price: parseE8(d.price),
      stale: false,
      receiveTime: frame.ts,
    });
  },
};

const T0 = 1_790_000_000_000;
let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.bus.close();
  kernel = undefined;
});

describe('oracle agent', () => {
  it('publishes ticks, flags them stale once when the feed goes silent (not when one symbol is quiet), counts rejected frames', async () => {
    const sk = simKernel(T0, { STALE_AFTER_MS: '2000' });
    kernel = sk.kernel;
    const { clock } = sk;
    const ticks: OracleTick[] = [];
    kernel.bus.subscribe(channels.ticks('chainlink'), { group: 'test' }, (m) => {
      ticks.push(m.body);
    });
    const feed = scriptedSource('chainlink');
    const agent = createOracleAgent({ source: 'chainlink', feed, decoder: tickDecoder });
    expect(agent.name).toBe('oracle-chainlink');
    const rt = new AgentRuntime(kernel, agent);
    await rt.start();

    feed.push({ ts: T0, source: 'chainlink.ws', data: { symbol: 'BTC/USD', price: '100000.5' } });
    feed.push({ ts: T0, source: 'chainlink.ws', data: { symbol: 'ETH/USD', price: '3500' } });
    feed.push({ ts: T0, source: 'chainlink.ws', data: 'garbage' });
    clock.advanceTo(T0 + 1500);
    feed.push({ ts: T0 + 1500, source: 'chainlink.ws', data: { symbol: 'BTC/USD', price: '100001' } });
    await kernel.bus.idle();
    expect(ticks.map((t) => [t.symbol, t.price, t.stale])).toEqual([
      ['BTC/USD', 10_000_050_000_000, false],
      ['ETH/USD', 350_000_000_000, false],
      ['BTC/USD', 10_000_100_000_000, false],
    ]);
    // ETH alone goes quiet while BTC keeps ticking: the feed is alive, so ETH stays fresh
    clock.advanceTo(T0 + 3_000);
    feed.push({ ts: T0 + 3_000, source: 'chainlink.ws', data: { symbol: 'BTC/USD', price: '100002' } });
    clock.advanceTo(T0 + 4_900);
    await kernel.bus.idle();
    expect(ticks.slice(3).map((t) => [t.symbol, t.stale])).toEqual([['BTC/USD', false]]);
    // the whole feed goes silent past 2 s (no frame, no heartbeat): every symbol flagged once
    clock.advanceTo(T0 + 10_000);
    await kernel.bus.idle();
    expect(ticks.slice(4).map((t) => [t.symbol, t.stale, t.price])).toEqual([
      ['BTC/USD', true, 10_000_200_000_000],
      ['ETH/USD', true, 350_000_000_000],
    ]);
    expect(agent.health!()).toMatchObject({
      connected: true,
      framesRejected: 1,
      ticks: 2,
      stale: 2,
      reconnects: 0,
    });
    await rt.stop();
  });

  it('publishes Binance and Chainlink ticks from the simulated market with the real decoders', async () => {
    const start = Date.UTC(2026, 10, 26, 14, 0, 0);
    const sk = simKernel(start);
    kernel = sk.kernel;
    const { clock } = sk;
    const ticks: OracleTick[] = [];
    for (const s of ['binance', 'chainlink'] as const) {
      kernel.bus.subscribe(channels.ticks(s), { group: 'test' }, (m) => {
        ticks.push(m.body);
      });
    }
    const hub = createSimHub({ seed: 4, clock });
    const agents = (['binance', 'chainlink'] as const).map((source) =>
      createOracleAgent({
        source,
        feed: hub.source(`sim-${source}`, [`${source}.`]),
        decoder: createFeedDecoders(source),
      }),
    );
    const rts = agents.map((a) => new AgentRuntime(kernel!, a));
    for (const rt of rts) await rt.start();
    for (let t = start; t <= start + 10_000; t += 500) {
      clock.advanceTo(t);
      await kernel.bus.idle();
    }
    const symbols = new Set(ticks.map((t) => `${t.source}:${t.symbol}`));
    expect([...symbols].sort()).toEqual([
      'binance:BTC/USDT',
      'binance:ETH/USDT',
      'chainlink:BTC/USD',
      'chainlink:ETH/USD',
    ]);
    expect(ticks.every((t) => t.price > 0 && !t.stale)).toBe(true);
    for (const a of agents) expect(a.health!()).toMatchObject({ connected: true, framesRejected: 0 });
    for (const rt of rts) await rt.stop();
  });
});
