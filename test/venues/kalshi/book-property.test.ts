import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderBook } from '../../../src/core/messages.ts';
import { createKalshiDecoder } from '../../../src/venues/kalshi/decoder.ts';
import { collect } from './collect.ts';

/** Cents 1..99 → "0.0100"…; hundredths of a contract → "12.34". */
const price = (c: number) => `0.${String(c).padStart(2, '0')}00`;
const count = (h: number) =>
  `${h < 0 ? '-' : ''}${Math.trunc(Math.abs(h) / 100)}.${String(Math.abs(h) % 100).padStart(2, '0')}`;

const delta = fc.record({
  side: fc.constantFrom('yes' as const, 'no' as const),
  cents: fc.integer({ min: 1, max: 99 }),
  hundredths: fc.integer({ min: -50_000, max: 50_000 }).filter((h) => h !== 0),
});

describe('kalshi local book (property)', () => {
  it('matches a reference model after any snapshot + delta sequence, with asks mirrored from the other side', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 100_000 })), {
          maxLength: 30,
        }),
        fc.array(delta, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 25 }),
        (snapshotYes, deltas, depth) => {
          const dec = createKalshiDecoder({ depth });
          const sink = collect();
          const model = { yes: new Map<number, number>(), no: new Map<number, number>() };
          for (const [c, h] of snapshotYes) model.yes.set(c, h);
          const snap = [...model.yes.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([c, h]) => [price(c), count(h)]);
          let seq = 1;
          dec.decode(
            {
              ts: 0,
              source: 'kalshi.ws',
              data: {
                type: 'orderbook_snapshot',
                sid: 1,
                seq,
                msg: { market_ticker: 'P', yes_dollars_fp: snap },
              },
            },
            sink,
          );
          for (const d of deltas) {
            const m = model[d.side];
            const next = (m.get(d.cents) ?? 0) + d.hundredths;
            if (next > 0) m.set(d.cents, next);
            else m.delete(d.cents);
            seq++;
            dec.decode(
              {
                ts: seq,
                source: 'kalshi.ws',
                data: {
                  type: 'orderbook_delta',
                  sid: 1,
                  seq,
                  msg: {
                    market_ticker: 'P',
                    price_dollars: price(d.cents),
                    delta_fp: count(d.hundredths),
                    side: d.side,
                  },
                },
              },
              sink,
            );
          }
          expect(sink.rejects).toEqual([]);
          const books = sink.books();
          const yes = books.at(-2) as OrderBook;
          const no = books.at(-1) as OrderBook;
          const top = (m: Map<number, number>) =>
            [...m.entries()]
              .sort((a, b) => b[0] - a[0])
              .slice(0, depth)
              .map(([c, h]) => [c * 10_000, h * 10_000]);
          expect(yes.bids).toEqual(top(model.yes));
          expect(no.bids).toEqual(top(model.no));
          expect(yes.asks).toEqual(top(model.no).map(([p, s]) => [1_000_000 - p!, s]));
          expect(no.asks).toEqual(top(model.yes).map(([p, s]) => [1_000_000 - p!, s]));
          expect(yes.seq).toBe(seq);
          expect(yes.stale).toBe(false);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
