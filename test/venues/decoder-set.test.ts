/** createDecoderSet's route: each frame's events and rejections reach that frame's sink, under its source name. */
import { describe, expect, it } from 'vitest';
import type { FeedEvent, FeedSink, RawFrame } from '../../src/feeds/types.ts';
import { createDecoderSet } from '../../src/venues/registry.ts';
import { book } from '../risk/fixtures.ts';

const good = book('polymarket', 'm1', 'm1-yes', [[0.39, 10]], [[0.4, 10]]);
const crossed = book('polymarket', 'm1', 'm1-yes', [[0.5, 10]], [[0.4, 10]]);

function recorder(): FeedSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    emit: (e: FeedEvent) => log.push(`emit ${e.type}`),
    reject: (source: string, reason: string) => log.push(`reject ${source}: ${reason}`),
  };
}

const frame = (source: string, data: unknown): RawFrame => ({ ts: 1, source, data }) as RawFrame;

describe('decoder set routing', () => {
  it('sends each frame to its own sink, rejections named by the source as written', () => {
    const set = createDecoderSet([
      {
        sources: ['polymarket.ws.market'],
        decode(f, sink) {
          if (f.data === 'bad') sink.reject(f.source, 'malformed');
          else sink.emit(f.data === 'crossed' ? crossed : good);
        },
      },
    ]);
    const a = recorder();
    const b = recorder();
    set.route(frame('polymarket.ws.market', 'ok'), a);
    set.route(frame('sim.polymarket.ws.market', 'crossed'), b);
    set.route(frame('polymarket.ws.market', 'bad'), a);
    set.route(frame('nobody.ws', 'ok'), b);
    expect(a.log).toEqual(['emit book', 'reject polymarket.ws.market: malformed']);
    expect(b.log).toHaveLength(2);
    expect(b.log[0]).toMatch(/^reject sim\.polymarket\.ws\.market: .*\(m1-yes\)$/);
    expect(b.log[1]).toBe('reject nobody.ws: no decoder for this source');
  });

  it('a frame routed from inside a sink leaves the outer frame its sink and source', () => {
    const set = createDecoderSet([
      {
        sources: ['polymarket.ws.market', 'kalshi.ws'],
        decode(f, sink) {
          sink.emit(good);
          sink.reject(f.source, 'after');
        },
      },
    ]);
    const inner = recorder();
    const outer = recorder();
    let nested = false;
    const first: FeedSink = {
      emit: (e) => {
        outer.emit(e);
        if (!nested) {
          nested = true;
          set.route(frame('kalshi.ws', 'x'), inner);
        }
      },
      reject: (s, r) => outer.reject(s, r),
    };
    set.route(frame('polymarket.ws.market', 'x'), first);
    expect(inner.log).toEqual(['emit book', 'reject kalshi.ws: after']);
    expect(outer.log).toEqual(['emit book', 'reject polymarket.ws.market: after']);
  });
});
