import { describe, expect, it } from 'vitest';
import { replay } from '../../src/capture/replay.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { OrderBook } from '../../src/core/messages.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createDecoders } from '../../src/venues/registry.ts';
import { fixtureJson, fixtureJsonl } from '../helpers/fixtures.ts';
import { handMadeCapture, lv } from './hand-made.ts';

const PM_BOOK = fixtureJson<{ asset_id: string; market: string }>('polymarket/ws-book.json');
const KALSHI = fixtureJsonl<Record<string, unknown>>('kalshi/ws-session.jsonl');
const T0 = 1_777_903_200_123;

const capture = (): RawFrame[] =>
  handMadeCapture({
    book: PM_BOOK,
    bestBid: '0.46',
    bestAsk: ['0.48', '25'],
    nextBid: '0.45',
    kalshi: KALSHI,
    t0: T0,
  });

describe('replay', () => {
  it('replays a hand-made capture into the expected books, counting events and rejections', async () => {
    const decoders = createDecoders();
    const bus = createInProcBus({ name: 't' });
    const seen: OrderBook[] = [];
    bus.subscribe(channels.books('kalshi'), { group: 'test' }, (m) => {
      seen.push(m.body);
    });
    const clock = new SimClock();
    const result = await replay({ frames: capture(), clock, decoders, publish: bus });
    await bus.close();

    const books = new Map(decoders.books().map((b) => [`${b.venue}:${b.tokenId}`, b]));
    const pm = books.get(`polymarket:${PM_BOOK.asset_id}`)!;
    expect(pm.bids).toEqual([lv('0.45', '80'), lv('0.44', '250')]);
    expect(pm.asks).toEqual([lv('0.48', '25'), lv('0.49', '150'), lv('0.50', '40')]);
    const ticker = 'KXHIGHNY-26MAY04-T80';
    const yes = books.get(`kalshi:${ticker}:yes`)!;
    expect(yes.bids).toEqual([lv('0.04', '539.5'), lv('0.03', '40')]);
    expect(yes.asks).toEqual([lv('0.06', '730'), lv('0.10', '18')]);
    const no = books.get(`kalshi:${ticker}:no`)!;
    expect(no.bids).toEqual([lv('0.94', '730'), lv('0.90', '18')]);
    expect(no.asks).toEqual([lv('0.96', '539.5'), lv('0.97', '40')]);

    expect(result.frames).toBe(7);
    expect(result.events.book).toBeGreaterThanOrEqual(4);
    expect(result.rejected.total).toBeGreaterThanOrEqual(2);
    expect(result.rejected.reasons['nowhere.feed: no decoder for this source']).toBe(1);
    expect(Object.keys(result.rejected.reasons).some((r) => r.startsWith('polymarket.ws.market'))).toBe(true);
    expect(result.firstTs).toBe(T0);
    expect(result.lastTs).toBe(T0 + 60);
    // the Kalshi books went to the bus, and the last one carries the delta
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)!.bids.length).toBeGreaterThan(0);
    expect(clock.now()).toBe(T0 + 60);
  });

  it('settleEachFrame: every event is handled at its frame time, whatever the batching', async () => {
    const run = async (batches: RawFrame[][], settleEachFrame: boolean): Promise<[number, number][]> => {
      const bus = createInProcBus({ name: 't' });
      const clock = new SimClock();
      const handled: [number, number][] = [];
      for (const v of ['polymarket', 'kalshi'] as const) {
        bus.subscribe(channels.books(v), { group: 'test' }, (m) => {
          handled.push([m.body.receiveTime, clock.now()]);
        });
      }
      await replay({ frames: batches, clock, decoders: createDecoders(), publish: bus, settleEachFrame });
      await bus.close();
      return handled;
    };
    const frames = capture();
    const one = await run([frames], true);
    const split = await run([frames.slice(0, 3), frames.slice(3, 4), frames.slice(4)], true);
    expect(one.length).toBeGreaterThanOrEqual(4);
    // handled at the time the frame arrived (books are stamped with the frame's clock time)
    for (const [received, at] of one) expect(at).toBe(received);
    expect(split).toEqual(one);
    // without it, a batch is decoded ahead of its handling: the clock has moved on by the time books arrive
    const ahead = await run([frames], false);
    expect(ahead.some(([received, at]) => at > received)).toBe(true);
  });

  it('advances the simulated clock to each frame, firing due timers before the frame is decoded', async () => {
    const clock = new SimClock(T0 - 1000);
    const order: string[] = [];
    clock.at(T0 + 25, () => order.push(`timer@${clock.now()}`));
    clock.at(T0 + 5, () => order.push(`timer@${clock.now()}`));
    await replay({
      frames: capture().slice(0, 5),
      clock,
      decoders: createDecoders(),
      publish: (e) => order.push(`${e.type}@${clock.now()}`),
    });
    const firstTimer = order.indexOf(`timer@${T0 + 5}`);
    const secondTimer = order.indexOf(`timer@${T0 + 25}`);
    expect(firstTimer).toBeGreaterThan(0);
    expect(order.slice(0, firstTimer).every((e) => e.endsWith(`@${T0}`))).toBe(true);
    expect(secondTimer).toBeGreaterThan(firstTimer);
    expect(order.slice(secondTimer + 1).every((e) => !e.endsWith(`@${T0 + 10}`))).toBe(true);
  });

  it('reads frames from an async iterable and reports progress', async () => {
    async function* gen(): AsyncGenerator<RawFrame> {
      for (const f of capture()) yield f;
    }
    const progress: number[] = [];
    const r = await replay({
      frames: gen(),
      clock: new SimClock(),
      decoders: createDecoders(),
      publish: () => {},
      progressEvery: 2,
      onProgress: (p) => progress.push(p.frames),
    });
    expect(r.frames).toBe(7);
    expect(progress).toEqual([2, 4, 6, 7]);
  });
});
