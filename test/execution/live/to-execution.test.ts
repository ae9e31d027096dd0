import { describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import {
  reportFromLive,
  reportFromSubmit,
  specFromRequest,
  toOrderStatus,
  toReasonCode,
} from '../../../src/execution/live/to-execution.ts';
import type { OrderRequest } from '../../../src/execution/types.ts';

const req: OrderRequest = {
  clientOrderId: clientOrderId('req-1', 0),
  requestId: 'req-1',
  legIndex: 0,
  strategy: 'xv',
  purpose: 'trade',
  venue: 'polymarket',
  marketId: '0xc1',
  tokenId: '123',
  side: 'buy',
  limitPrice: 450_000,
  shares: 10_000_000,
  type: 'FOK',
};

describe('live venue results → execution reports', () => {
  it('maps statuses and reasons onto the execution layer codes', () => {
    expect(
      ['pending', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired'].map((s) =>
        toOrderStatus(s as never),
      ),
    ).toEqual(['new', 'acknowledged', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired']);
    expect(toReasonCode('fok_not_filled')).toBe('fok_not_fillable');
    expect(toReasonCode('invalid_price')).toBe('off_price_grid');
    expect(toReasonCode('duplicate')).toBe('duplicate_order');
  });

  it('builds the venue spec with the market facts and the decision time', () => {
    const spec = specFromRequest(req, {
      tickSize: 10_000,
      createdAt: 42,
      polymarket: { protocol: 'v2', negRisk: false },
    });
    expect(spec).toMatchObject({
      clientOrderId: req.clientOrderId,
      createdAt: 42,
      tickSize: 10_000,
      type: 'FOK',
      polymarket: { protocol: 'v2' },
    });
  });

  it('submit results and stream reports become order reports under our client id', () => {
    expect(reportFromSubmit(req, { kind: 'unknown', message: 'x' }, 1)).toBeUndefined();
    expect(
      reportFromSubmit(
        req,
        {
          kind: 'rejected',
          reason: 'insufficient_funds',
          status: 400,
          message: 'not enough balance / allowance',
        },
        1,
      ),
    ).toEqual({
      clientOrderId: req.clientOrderId,
      venue: 'polymarket',
      status: 'rejected',
      reason: 'insufficient_funds',
      detail: 'not enough balance / allowance',
      ts: 1,
    });
    const order = {
      venue: 'polymarket' as const,
      clientOrderId: req.clientOrderId,
      venueOrderId: '0xabc',
      marketId: '0xc1',
      tokenId: '123',
      side: 'buy' as const,
      limitPrice: 450_000,
      shares: 10_000_000,
      filledShares: 0,
      status: 'cancelled' as const,
    };
    expect(reportFromSubmit(req, { kind: 'accepted', order, resolvedBy: 'response' }, 2)).toMatchObject({
      status: 'cancelled',
      reason: 'fok_not_fillable',
      venueOrderId: '0xabc',
    });
    const fill = {
      venue: 'polymarket' as const,
      fillId: 't1',
      venueOrderId: '0xabc',
      clientOrderId: req.clientOrderId,
      marketId: '0xc1',
      tokenId: '123',
      side: 'buy' as const,
      price: 440_000,
      shares: 10_000_000,
      fee: 0,
      liquidity: 'taker' as const,
      settlement: 'provisional' as const,
      ts: 3,
    };
    expect(reportFromLive({ kind: 'fill', fill, source: 'socket' }, 'acknowledged')).toEqual({
      clientOrderId: req.clientOrderId,
      venue: 'polymarket',
      venueOrderId: '0xabc',
      status: 'acknowledged',
      fill: {
        fillId: 't1',
        price: 440_000,
        shares: 10_000_000,
        fee: 0,
        liquidity: 'taker',
        settlement: 'provisional',
      },
      ts: 3,
    });
    expect(
      reportFromLive(
        { kind: 'fill', fill: { ...fill, clientOrderId: undefined }, source: 'poll' },
        'acknowledged',
      ),
    ).toBeUndefined();
  });
});
