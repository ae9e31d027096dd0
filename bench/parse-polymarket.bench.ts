/**
 * parse.polymarket.price_change_s: Polymarket websocket price_change frames per second, decoded (checked, parsed
 * to micro-units) and applied to the local books, one core. Frames are the current schema with two entries (the
 * YES and NO token of one market, as the venue sends them), already JSON-parsed as RawFrame.data is; books hold
 * ~40 levels a side and the decoder emits a top-20 OrderBook per touched token to a sink that drops it.
 * A second figure in the log includes JSON.parse of the frame text.
 */

import type { FeedSink, RawFrame } from '../src/feeds/types.ts';
import { createPolymarketDecoder } from '../src/venues/polymarket/decoder.ts';
import { type BenchContext, cpuNow, median, nowNs, repeat } from './harness.ts';

const YES = '52114319501245915516055106046884209969926127482827954674443846427813813222426';
const NO = '71321045679252212594626385532706912750332728571942532289631379312455583992563';
const MARKET = '0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1';

function p3(n: number): string {
  return (n / 1000).toFixed(3);
}

function seedFrames(): RawFrame[] {
  const levels = (from: number, to: number) => {
    const out: Array<{ price: string; size: string }> = [];
    for (let p = from; p <= to; p += 5) out.push({ price: p3(p), size: String(100 + (p % 37)) + '.25' });
    return out;
  };
  return [YES, NO].map((asset, i) => ({
    ts: 1,
    source: 'polymarket.ws.market',
    data: {
      event_type: 'book',
      market: MARKET,
      asset_id: asset,
      bids: levels(300 + i, 495), // ascending, best last
      asks: levels(505, 700 + i).reverse(), // descending, best last
      timestamp: '1757908892351',
      hash: 'x',
    },
  }));
}

function makeFrames(n: number): RawFrame[] {
  const out: RawFrame[] = new Array(n);
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = 0; i < n; i++) {
    const bid = rnd() < 0.5;
    const px = bid ? 300 + Math.floor(rnd() * 40) * 5 : 505 + Math.floor(rnd() * 40) * 5;
    const size = rnd() < 0.1 ? '0' : `${Math.floor(rnd() * 5000)}.${Math.floor(rnd() * 100)}`;
    out[i] = {
      ts: 1_757_908_892_351 + i,
      source: 'polymarket.ws.market',
      data: {
        event_type: 'price_change',
        market: MARKET,
        timestamp: String(1_757_908_892_351 + i),
        price_changes: [
          {
            asset_id: YES,
            price: p3(px),
            size,
            side: bid ? 'BUY' : 'SELL',
            hash: 'h',
            best_bid: '0.495',
            best_ask: '0.505',
          },
          {
            asset_id: NO,
            price: p3(1000 - px),
            size,
            side: bid ? 'SELL' : 'BUY',
            hash: 'h',
            best_bid: '0.495',
            best_ask: '0.505',
          },
        ],
      },
    };
  }
  return out;
}

export async function run(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 50_000 : 400_000;
  const runs = ctx.quick ? 3 : 7;
  const frames = makeFrames(n);
  const texts = frames.map((f) => JSON.stringify(f.data));
  let emitted = 0;
  let rejected = 0;
  const sink: FeedSink = {
    emit: () => {
      emitted++;
    },
    reject: () => {
      rejected++;
    },
  };

  const cpuRates: number[] = [];
  const once = (withJson: boolean): number => {
    const dec = createPolymarketDecoder();
    for (const f of seedFrames()) dec.decode(f, sink);
    const c0 = cpuNow();
    const t0 = nowNs();
    if (withJson) {
      for (let i = 0; i < n; i++)
        dec.decode({ ts: frames[i]!.ts, source: 'polymarket.ws.market', data: JSON.parse(texts[i]!) }, sink);
    } else {
      for (let i = 0; i < n; i++) dec.decode(frames[i]!, sink);
    }
    const secs = (nowNs() - t0) / 1e9;
    if (!withJson) cpuRates.push(n / Math.max(cpuNow() - c0, 1e-6));
    return n / secs;
  };

  once(false); // warm-up
  cpuRates.length = 0;
  const rates = await repeat(runs, () => once(false));
  const withJson = await repeat(Math.max(3, runs >> 1), () => once(true));
  if (rejected > 0) throw new Error(`bench frames were rejected (${rejected})`);
  ctx.log(
    `price_change incl. JSON.parse: ${Math.round(median(withJson)).toLocaleString()} frames/s; emitted ${emitted}`,
  );
  ctx.record(
    'parse.polymarket.price_change_s',
    median(rates),
    `price_change frames/s decoded + applied to local books (2 entries/frame, top-20 book emitted per token), median of ${runs} runs × ${n} frames, one core; per CPU-second (process.cpuUsage) ${Math.round(median(cpuRates))} frames/s`,
  );
}
