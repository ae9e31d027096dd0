import { describe, expect, it } from 'vitest';
import {
  applyReport,
  ExecutionInvariantError,
  isOpen,
  newOrderState,
} from '../../src/execution/order-state.ts';
import type { FillReport, OrderReport, OrderRequest } from '../../src/execution/types.ts';
import { $, sh } from '../risk/fixtures.ts';

const req: OrderRequest = {
  clientOrderId: 'r1.0',
  requestId: 'r1',
  legIndex: 0,
  strategy: 's1',
  purpose: 'trade',
  venue: 'kalshi',
  marketId: 'K1',
  tokenId: 'K1:yes',
  side: 'buy',
  limitPrice: $(0.5),
  shares: sh(10),
  type: 'GTC',
};

const rep = (status: OrderReport['status'], over: Partial<OrderReport> = {}): OrderReport => ({
  clientOrderId: 'r1.0',
  venue: 'kalshi',
  status,
  ts: 1,
  ...over,
});
const fill = (
  id: string,
  shares: number,
  settlement: FillReport['settlement'] = 'confirmed',
): FillReport => ({
  fillId: id,
  price: $(0.5),
  shares: sh(shares),
  fee: $(0.01),
  liquidity: 'maker',
  settlement,
});

describe('order state machine', () => {
  it('new → acknowledged → partially filled → filled, keeping the venue id and the fills', () => {
    let o = newOrderState(req, 0);
    o = applyReport(o, rep('acknowledged', { venueOrderId: 'V-1' }));
    o = applyReport(o, rep('partially_filled', { fill: fill('f1', 4) }));
    o = applyReport(o, rep('filled', { fill: fill('f2', 6), venueOrderId: 'V-1' }));
    expect(o).toMatchObject({
      status: 'filled',
      venueOrderId: 'V-1',
      filledShares: sh(10),
      confirmedShares: sh(10),
      gross: $(5),
      fees: $(0.02),
    });
    expect(isOpen(o)).toBe(false);
  });

  it('a repeated report changes nothing; a provisional fill is confirmed once or taken back when it fails', () => {
    let o = newOrderState(req, 0);
    o = applyReport(o, rep('partially_filled', { fill: fill('f1', 4, 'provisional') }));
    const again = applyReport(o, rep('partially_filled', { fill: fill('f1', 4, 'provisional') }));
    expect(again.filledShares).toBe(sh(4));
    expect(again.confirmedShares).toBe(0);
    o = applyReport(o, rep('partially_filled', { fill: fill('f2', 3, 'provisional') }));
    o = applyReport(o, rep('partially_filled', { fill: fill('f1', 4, 'confirmed') }));
    o = applyReport(o, rep('partially_filled', { fill: fill('f2', 3, 'failed') }));
    expect(o).toMatchObject({ filledShares: sh(4), confirmedShares: sh(4), gross: $(2), fees: $(0.01) });
  });

  it('a fill that wins the race against a cancel still counts', () => {
    let o = applyReport(newOrderState(req, 0), rep('acknowledged'));
    o = applyReport(o, rep('cancelled', { reason: 'cancel_requested' }));
    o = applyReport(o, rep('cancelled', { fill: fill('f1', 2) }));
    expect(o).toMatchObject({ status: 'cancelled', reason: 'cancel_requested', filledShares: sh(2) });
  });

  it('refuses impossible reports as broken invariants', () => {
    const filled = applyReport(newOrderState(req, 0), rep('filled', { fill: fill('f1', 10) }));
    const rejected = applyReport(newOrderState(req, 0), rep('rejected', { reason: 'below_min_size' }));
    const acked = applyReport(newOrderState(req, 0), rep('acknowledged', { venueOrderId: 'V-1' }));
    expect(() => applyReport(filled, rep('partially_filled'))).toThrow(ExecutionInvariantError);
    expect(() => applyReport(filled, rep('filled', { fill: fill('f2', 1) }))).toThrow(/fills of/);
    expect(() => applyReport(rejected, rep('rejected', { fill: fill('f1', 1) }))).toThrow(/rejected order/);
    expect(() => applyReport(acked, rep('rejected'))).toThrow(/cannot move from acknowledged to rejected/);
    expect(() => applyReport(acked, rep('filled', { venueOrderId: 'V-2' }))).toThrow(/venue order id/);
    expect(() => applyReport(acked, rep('filled', { clientOrderId: 'other' }))).toThrow(
      ExecutionInvariantError,
    );
    const f = applyReport(acked, rep('partially_filled', { fill: fill('f1', 2) }));
    expect(() =>
      applyReport(f, rep('partially_filled', { fill: { ...fill('f1', 2), price: $(0.4) } })),
    ).toThrow(/changed its size or price/);
  });
});
