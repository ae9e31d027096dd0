/**
 * The live reconciler agent against a scripted venue: every difference is a `reconciliation_mismatch` event with
 * both numbers; a difference past a threshold halts trading (HALT_ALL and a critical alert) only when the next run
 * sees it again; fills booked on the bus close a position difference; cash is compared against the balance of the
 * first clean run plus the fills' cash flows; re-adopted orders' fills are published as Fills.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createReconciler, type ReconcileRun } from '../../src/agents/live-reconciler.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Alert, Fill, ReconciliationMismatch, SystemCommand } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { newOrderState } from '../../src/execution/order-state.ts';
import type { OrderReport, OrderRequest, OrderState } from '../../src/execution/types.ts';
import type {
  LiveBalance,
  LiveOrderState,
  LivePosition,
  VenueOrderClient,
} from '../../src/venues/live/types.ts';

const T = 'KXREC-26DEC31';
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

/** A Kalshi account whose positions, open orders and balance the test sets. */
function venue() {
  const state = {
    positions: [] as LivePosition[],
    open: [] as LiveOrderState[],
    balance: 100_000_000,
  };
  const client = {
    venue: 'kalshi',
    positions: async () => state.positions,
    openOrders: async () => state.open,
    balance: async (): Promise<LiveBalance> => ({ venue: 'kalshi', available: state.balance }),
  } as unknown as VenueOrderClient;
  return { state, client };
}

function fill(over: Partial<Fill> = {}): Fill {
  return {
    type: 'fill',
    id: `kalshi:f${Math.random()}`,
    orderId: 'o.0',
    requestId: 'o',
    strategy: 's',
    venue: 'kalshi',
    marketId: T,
    tokenId: `${T}:yes`,
    side: 'buy',
    price: 400_000,
    shares: 5_000_000,
    fee: 10_000,
    liquidity: 'taker',
    kind: 'trade',
    ts: 1,
    ...over,
  };
}

async function setup(env: Record<string, string> = {}) {
  const v = venue();
  const orders: OrderState[] = [];
  let adopted: ((r: OrderReport, s: OrderState) => void) | undefined;
  const kernel = await createKernel({ config: loadConfig(env), instance: 'rec-test', log: silentLogger() });
  const runs: ReconcileRun[] = [];
  const rec = createReconciler({
    live: {
      venues: ['kalshi'],
      venueClients: new Map([['kalshi', v.client]]),
      liveClients: new Map([['kalshi', { orderStates: () => orders } as never]]),
      polymarketFacts: () => undefined,
      onAdopted: (l) => {
        adopted = l;
      },
    },
    intervalMs: 3_600_000, // runs are driven by the test
    onRun: (r) => runs.push(r),
  });
  const events: ReconciliationMismatch[] = [];
  const halts: SystemCommand[] = [];
  const alerts: Alert[] = [];
  const fills: Fill[] = [];
  kernel.bus.subscribe(channels.reconciliation, { group: 't-rec' }, (m) => void events.push(m.body));
  kernel.bus.subscribe(channels.system, { group: 't-sys' }, (m) => void halts.push(m.body));
  kernel.bus.subscribe(channels.alerts, { group: 't-alerts' }, (m) => void alerts.push(m.body));
  kernel.bus.subscribe(channels.fills, { group: 't-fills' }, (m) => void fills.push(m.body));
  const { stop } = await startAgents(kernel, [rec]);
  stops.push(async () => {
    await stop();
    await kernel.bus.close();
  });
  const settle = () => kernel.bus.flush();
  return { v, orders, rec, kernel, runs, events, halts, alerts, fills, settle, adopted: () => adopted! };
}

describe('live reconciler', () => {
  it('a position difference is an event with both numbers; it halts only when the next run sees it again', async () => {
    const s = await setup();
    s.v.state.positions = [{ venue: 'kalshi', marketId: T, tokenId: `${T}:yes`, shares: 5_000_000 }];
    await s.rec.runOnce();
    await s.settle();
    expect(s.events).toMatchObject([
      {
        type: 'reconciliation_mismatch',
        venue: 'kalshi',
        kind: 'position',
        tokenId: `${T}:yes`,
        unit: 'shares',
        venueValue: 5_000_000,
        ourValue: 0,
        diff: 5_000_000,
        halt: false,
      },
    ]);
    expect(s.runs[0]!.haltWorthy).toHaveLength(1);
    expect(s.halts).toEqual([]);
    // seen again: HALT_ALL and a critical alert
    await s.rec.runOnce();
    await s.settle();
    expect(s.events.at(-1)).toMatchObject({ kind: 'position', halt: true });
    expect(s.halts).toMatchObject([{ command: 'HALT_ALL', issuedBy: 'reconciler@rec-test' }]);
    expect(s.halts[0]!.reason).toContain('venue 5000000, ours 0');
    expect(s.alerts.find((a) => a.level === 'critical')?.title).toMatch(/reconciliation/);
    // one halt per episode
    await s.rec.runOnce();
    await s.settle();
    expect(s.halts).toHaveLength(1);
  });

  it('a fill on the bus closes the difference before the next run: no halt; then cash follows the fills', async () => {
    const s = await setup();
    s.v.state.positions = [{ venue: 'kalshi', marketId: T, tokenId: `${T}:yes`, shares: 5_000_000 }];
    await s.rec.runOnce();
    s.kernel.bus.publish(channels.fills, fill());
    await s.settle();
    await s.rec.runOnce();
    await s.settle();
    expect(s.runs.at(-1)!.mismatches).toEqual([]);
    expect(s.halts).toEqual([]);
    // the clean run set the cash baseline ($100); a sell of 5 at 0.50 (fee 0.02) moves the books to $102.48
    s.kernel.bus.publish(channels.fills, fill({ side: 'sell', price: 500_000, fee: 20_000 }));
    await s.settle();
    s.v.state.positions = [];
    s.v.state.balance = 102_480_000;
    await s.rec.runOnce();
    expect(s.runs.at(-1)!.mismatches).toEqual([]);
    // the venue says $1.50 less: reported (and, above RECONCILE_HALT_CASH_USD=1, halt-worthy)
    s.v.state.balance = 100_980_000;
    await s.rec.runOnce();
    expect(s.runs.at(-1)!.mismatches).toMatchObject([
      { kind: 'cash', unit: 'usd', venueValue: 100_980_000, ourValue: 102_480_000, diff: -1_500_000 },
    ]);
    expect(s.runs.at(-1)!.haltWorthy).toHaveLength(1);
  });

  it('an order at the venue we do not track is reported; RECONCILE_HALT_SHARES tolerates small position differences', async () => {
    const s = await setup({ RECONCILE_HALT_SHARES: '1' });
    s.v.state.positions = [{ venue: 'kalshi', marketId: T, tokenId: `${T}:yes`, shares: 1_000_000 }];
    s.v.state.open = [
      {
        venue: 'kalshi',
        clientOrderId: 'someone-else',
        venueOrderId: 'v-1',
        marketId: T,
        tokenId: `${T}:no`,
        side: 'buy',
        limitPrice: 300_000,
        shares: 2_000_000,
        filledShares: 0,
        status: 'open',
      },
    ];
    await s.rec.runOnce();
    expect(s.runs[0]!.mismatches.map((m) => m.kind).sort()).toEqual(['position', 'unknown_open_order']);
    expect(s.runs[0]!.haltWorthy.map((m) => m.kind)).toEqual(['unknown_open_order']);
  });

  it('publishes the Order and the confirmed Fill of a re-adopted order', async () => {
    const s = await setup();
    const req: OrderRequest = {
      clientOrderId: clientOrderId('adopt-1', 0),
      requestId: 'adopt-1',
      legIndex: 0,
      strategy: 'cross-venue',
      purpose: 'trade',
      venue: 'kalshi',
      marketId: T,
      tokenId: `${T}:no`,
      side: 'buy',
      limitPrice: 530_000,
      shares: 5_000_000,
      type: 'FAK',
    };
    const st = newOrderState(req, 1);
    const r: OrderReport = {
      clientOrderId: req.clientOrderId,
      venue: 'kalshi',
      venueOrderId: 'k-9',
      status: 'filled',
      fill: {
        fillId: 't-9',
        price: 520_000,
        shares: 5_000_000,
        fee: 90_000,
        liquidity: 'taker',
        settlement: 'confirmed',
      },
      ts: 2,
    };
    s.adopted()(r, { ...st, status: 'filled', filledShares: 5_000_000, confirmedShares: 5_000_000 });
    await s.settle();
    expect(s.fills).toMatchObject([
      {
        id: 'kalshi:t-9',
        orderId: req.clientOrderId,
        requestId: 'adopt-1',
        strategy: 'cross-venue',
        tokenId: `${T}:no`,
        price: 520_000,
        shares: 5_000_000,
        fee: 90_000,
        kind: 'trade',
      },
    ]);
    // booked: the venue holding the same is no mismatch
    s.v.state.positions = [{ venue: 'kalshi', marketId: T, tokenId: `${T}:no`, shares: 5_000_000 }];
    await s.rec.runOnce();
    expect(s.runs.at(-1)!.mismatches).toEqual([]);
  });
});
