import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/capture/replay.ts';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { OrderBook } from '../../src/core/messages.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createDecoders } from '../../src/venues/registry.ts';
import { handMadeCapture, lv } from '../../test/capture/hand-made.ts';
import { replayBothWays } from '../../test/capture/worker-equivalence.ts';
import { recordedJson, recordedJsonl } from '../shared.ts';

const PM_BOOK = recordedJson<{ asset_id: string; market: string }>('polymarket/ws-book.doc-example.json');
const KALSHI = recordedJsonl<Record<string, unknown>>('kalshi/ws-frames-demo-2026-08-verbatim.jsonl');
const T0 = 1_757_908_892_351;

const capture = (): RawFrame[] =>
  handMadeCapture({
    book: PM_BOOK,
    bestBid: '0.50',
    bestAsk: ['0.52', '40'],
    nextBid: '0.49',
    kalshi: KALSHI,
    t0: T0,
  });

describe('replay', () => {
  it('decodes the recorded frames the same when the capture read worker prepares them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pmarb-rec-worker-')), 'rec.jsonl');
    const frames = [
      ...capture(),
      ...KALSHI.map((data, i) => ({ ts: T0 + 100 + i, source: 'kalshi.ws', data })),
    ];
    writeFileSync(path, `${frames.map(formatCaptureLine).join('\n')}\n`);
    const [main, worker] = await replayBothWays(path);
    expect(main.events.length).toBeGreaterThan(4);
    expect(worker).toEqual(main);
  }, 60_000);

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
    expect(pm.bids).toEqual([lv('0.49', '20'), lv('0.48', '30')]);
    expect(pm.asks).toEqual([lv('0.52', '40'), lv('0.53', '60'), lv('0.54', '10')]);
    const ticker = 'KXGOLDH-26AUG2711-T4615.99';
    const yes = books.get(`kalshi:${ticker}:yes`)!;
    expect(yes.bids).toEqual([lv('0.01', '1420')]);
    expect(yes.asks).toEqual([lv('0.98', '2500'), lv('0.99', '100')]);
    const no = books.get(`kalshi:${ticker}:no`)!;
    expect(no.bids).toEqual([lv('0.02', '2500'), lv('0.01', '100')]);
    expect(no.asks).toEqual([lv('0.99', '1420')]);

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
});
