import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importBuilt } from '../../bench/built.ts';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { preparedCounts, replayBothWays } from './worker-equivalence.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-read-worker-'));
const T = 1_795_701_600_000;

describe('capture read worker', () => {
  it('gives the decoders the same events, rejections and bad lines as reading in the main thread', async () => {
    const lines = [...simulateFrames({ seed: 3, minutes: 1, eventRate: 50 })].map(formatCaptureLine);
    const ticker = 'KXBTCD-26NOV260930-T100000';
    const delta = (msg: Record<string, unknown>, env: Record<string, unknown> = { sid: 1, seq: 999 }) =>
      formatCaptureLine({
        ts: T + 5,
        source: 'sim.kalshi.ws',
        data: { type: 'orderbook_delta', ...env, msg },
      });
    const pc = (changes: unknown) =>
      formatCaptureLine({
        ts: T + 6,
        source: 'polymarket.ws.market',
        data: {
          event_type: 'price_change',
          market: '0xm',
          timestamp: '1795701600006',
          price_changes: changes,
        },
      });
    const entry = { asset_id: '123', price: '0.5', size: '10', side: 'BUY' };
    // frames the worker must not prepare, each handled by the decoders as without it
    const odd = [
      '{"ts":1795701600001,"source":"sim.kalshi.ws","data":',
      '',
      '   ',
      `${pc([entry])}\r`,
      pc([entry, { ...entry, side: 'HOLD' }]),
      pc([{ ...entry, price: '1.5' }]),
      pc([null]),
      pc('not an array'),
      pc([]),
      pc([{ ...entry, asset_id: '' }, entry]),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: '10.00', side: 'yes' }),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: '10.00', side: 'yes', ts_ms: T }, {}),
      delta({ market_ticker: ticker, price_dollars: '1.5000', delta_fp: '10.00', side: 'yes', ts_ms: T }),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: 'x', side: 'maybe', ts_ms: T }),
      delta({ market_ticker: 'KX-UNKNOWN', price_dollars: '0.5000', delta_fp: '1.00', side: 'no', ts_ms: T }),
      formatCaptureLine({ ts: T + 7, source: 'sim.kalshi.ws', data: { type: 'connection', state: 'down' } }),
      formatCaptureLine({
        ts: T + 8,
        source: 'polymarket.ws.market',
        data: { event_type: 'connection', state: 'down' },
      }),
      `{"ts":${T + 9},"source":"polymarket.ws.market","data":{"event_type":"price_change","x":"${'y'.repeat(3000)}"}}`,
    ];
    // the odd lines among the simulated ones, so that they hit books with history
    const mixed = [...lines.slice(0, 200), ...odd, ...lines.slice(200), ...odd];
    const path = join(dir, 'mixed.jsonl');
    writeFileSync(path, `${mixed.join('\n')}\n`);
    const [main, worker] = await replayBothWays(path, 2_000);
    expect(main.events.length).toBeGreaterThan(1000);
    expect(main.badLines.length).toBeGreaterThanOrEqual(4); // the cut line and the long ones, twice
    expect(Object.keys((main.rejected as { reasons: object }).reasons).length).toBeGreaterThan(3);
    expect(worker).toEqual(main);
    // the main-thread run parsed every line; the worker run got the hot frames prepared
    expect(preparedCounts[0]).toBe(0);
    expect(preparedCounts[1]).toBeGreaterThan(500);
  }, 60_000);

  it('hands over every frame in order to a consumer slower than the worker (the window fills and refills)', async () => {
    const lines = [...simulateFrames({ seed: 5, minutes: 1, eventRate: 50 })].map(formatCaptureLine);
    const path = join(dir, 'slow.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { readCaptureBatches } =
      await importBuilt<typeof import('../../bench/replay-entry.ts')>('bench/replay-entry.ts');
    // batches of a line or two: hundreds of them, so the worker waits on the window and is woken many times
    const seen: number[] = [];
    let batches = 0;
    for await (const batch of readCaptureBatches(path, { worker: true, batchBytes: 512 })) {
      for (const f of batch) seen.push(f.ts);
      // slow now and then: the worker runs ahead until MAX_IN_FLIGHT and must be woken to go on
      if (++batches % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(batches).toBeGreaterThan(200);
    expect(seen).toEqual(lines.map((l) => (JSON.parse(l) as { ts: number }).ts));
  }, 60_000);
});
