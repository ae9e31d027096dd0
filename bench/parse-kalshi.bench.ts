/**
 * parse.kalshi.orderbook_delta_s: Kalshi `orderbook_delta` frames per second through the real decoder — field
 * checks, fixed-point parse, seq check, apply to the local book, and the two top-20 token books emitted per
 * delta — on one core. Frames enter as the transport hands them over (JSON already parsed, RawFrame seam);
 * a second figure with JSON.parse included is logged for reference.
 */

import { seededRandom } from '../src/feeds/backoff.ts';
import type { FeedSink, RawFrame } from '../src/feeds/types.ts';
import { createKalshiDecoder } from '../src/venues/kalshi/decoder.ts';
import { type BenchContext, median, nowNs } from './harness.ts';

const MARKETS = 50;

function buildFrames(
  n: number,
  seed: number,
): { snapshots: RawFrame[]; deltas: RawFrame[]; texts: string[] } {
  const rnd = seededRandom(seed);
  const snapshots: RawFrame[] = [];
  let seq = 0;
  const level = (p: number, s: number): [string, string] => [(p / 100).toFixed(4), s.toFixed(2)];
  for (let m = 0; m < MARKETS; m++) {
    const yes: Array<[string, string]> = [];
    const no: Array<[string, string]> = [];
    for (let p = 1; p <= 45; p++) yes.push(level(p, 10 + Math.floor(rnd() * 1000)));
    for (let p = 1; p <= 50; p++) no.push(level(p, 10 + Math.floor(rnd() * 1000)));
    snapshots.push({
      ts: 0,
      source: 'kalshi.ws',
      data: {
        type: 'orderbook_snapshot',
        sid: 1,
        seq: ++seq,
        msg: { market_ticker: `KXBENCH-${m}`, market_id: `id-${m}`, yes_dollars_fp: yes, no_dollars_fp: no },
      },
    });
  }
  const deltas: RawFrame[] = new Array(n);
  const texts: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = Math.floor(rnd() * MARKETS);
    const side = rnd() < 0.5 ? 'yes' : 'no';
    const p = 1 + Math.floor(rnd() * 60);
    const d = ((rnd() < 0.55 ? 1 : -1) * (1 + Math.floor(rnd() * 5000))) / 100;
    const data = {
      type: 'orderbook_delta',
      sid: 1,
      seq: ++seq,
      msg: {
        market_ticker: `KXBENCH-${m}`,
        market_id: `id-${m}`,
        price_dollars: (p / 100).toFixed(4),
        delta_fp: d.toFixed(2),
        side,
        ts: '2026-08-27T13:56:23.996443Z',
        ts_ms: 1_787_838_983_996 + i,
      },
    };
    deltas[i] = { ts: i, source: 'kalshi.ws', data };
    texts[i] = JSON.stringify(data);
  }
  return { snapshots, deltas, texts };
}

export async function run(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 100_000 : 1_000_000;
  const runs = ctx.quick ? 3 : 7;
  const { snapshots, deltas, texts } = buildFrames(n, 42);
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

  const cpuRates: number[] = []; // per CPU second of this process: less sensitive to a busy machine
  const once = (withJson: boolean): number => {
    const dec = createKalshiDecoder();
    for (const s of snapshots) dec.decode(s, sink);
    const c0 = process.cpuUsage();
    const t0 = nowNs();
    if (withJson) {
      for (let i = 0; i < n; i++)
        dec.decode({ ts: i, source: 'kalshi.ws', data: JSON.parse(texts[i]!) }, sink);
    } else {
      for (let i = 0; i < n; i++) dec.decode(deltas[i]!, sink);
    }
    const secs = (nowNs() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    if (!withJson) cpuRates.push(n / ((cpu.user + cpu.system) / 1e6));
    return n / secs;
  };

  once(false); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(once(false));
  const withJson: number[] = [];
  for (let r = 0; r < Math.max(2, runs >> 1); r++) withJson.push(once(true));
  if (rejected > 0) throw new Error(`bench frames were rejected (${rejected})`);
  ctx.record(
    'parse.kalshi.orderbook_delta_s',
    median(rates),
    `median of ${runs} runs × ${n} deltas over ${MARKETS} markets; decode + apply + 2 top-20 books emitted per delta; JSON pre-parsed (RawFrame seam); per CPU-second (process.cpuUsage) ${Math.round(median(cpuRates))} frames/s`,
  );
  ctx.log(`with JSON.parse included: ${Math.round(median(withJson))} frames/s; books emitted: ${emitted}`);
}
