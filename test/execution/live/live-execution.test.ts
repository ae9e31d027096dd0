/**
 * The live execution built from the configuration (what `pm-arb run --live` hands the executor), against the fake
 * Kalshi exchange: a venue without credentials gets a client that rejects every order with the reason in words;
 * the market facts come from the market records; a second process that submits the same open order again (a
 * restart that redoes a decision) finds the venue's order instead of placing another.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.ts';
import type { Market } from '../../../src/core/messages.ts';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createLiveExecution, mask } from '../../../src/execution/live/live-execution.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import { startKalshiTradingFake } from '../../fakes/kalshi-trading-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';

const T = 'KXOWNRESTART-26DEC31-T5';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const market: Market = {
  type: 'market',
  venue: 'kalshi',
  marketId: T,
  question: 'Owned restart market?',
  rules: 'Owned.',
  outcomes: [
    { tokenId: `${T}:yes`, label: 'Yes', side: 'yes' },
    { tokenId: `${T}:no`, label: 'No', side: 'no' },
  ],
  tickSize: 10_000,
  minSize: 1_000_000,
  fees: { kind: 'none' },
  endTime: null,
  status: 'open',
  version: 'v1',
  receiveTime: 1,
};

function request(venue: 'kalshi' | 'polymarket', marketId: string): OrderRequest {
  return {
    clientOrderId: clientOrderId('restart-req-1', 0),
    requestId: 'restart-req-1',
    legIndex: 0,
    strategy: 's',
    purpose: 'trade',
    venue,
    marketId,
    tokenId: `${marketId}:yes`,
    side: 'buy',
    limitPrice: 300_000,
    shares: 2_000_000,
    type: 'GTC',
    decidedAt: 1_000,
  };
}

describe('live execution from the configuration', () => {
  it('rejects a leg on an unconfigured venue; a restarted process finds the open order instead of placing another', async () => {
    const fake = await startKalshiTradingFake({
      keyId: 'kid-r',
      publicKeyPem: keys.publicKey,
      balance: 100_000_000,
      markets: [{ ticker: T, yesAsks: [[500_000, 10_000_000]] }],
    });
    cleanups.push(() => fake.close());
    const pem = join(mkdtempSync(join(tmpdir(), 'pmarb-le-')), 'k.pem');
    writeFileSync(pem, keys.privateKey, { mode: 0o600 });
    const config = loadConfig({
      KALSHI_REST_URL: fake.restUrl,
      KALSHI_WS_URL: fake.wsUrl,
      KALSHI_API_KEY_ID: 'kid-r',
      KALSHI_PRIVATE_KEY_PATH: pem,
    });

    const processes = [1, 2].map(() => createLiveExecution(config, { now: Date.now, pollMs: 50 }));
    cleanups.push(async () => {
      for (const p of processes) {
        for (const c of p.clients.values()) await c.stop?.();
        await p.close();
      }
    });
    const [first, second] = processes as [
      ReturnType<typeof createLiveExecution>,
      ReturnType<typeof createLiveExecution>,
    ];
    expect(first.venues).toEqual(['kalshi']);
    expect(first.problems.join('\n')).toContain('polymarket: set POLYMARKET_PRIVATE_KEY');
    expect(await first.summary()).toEqual([
      'kalshi: LIVE, API key …, balance $100',
      'polymarket: not configured, its legs are rejected',
      'caps: $25 per order (LIVE_MAX_ORDER_USD), $250 per UTC day (LIVE_MAX_DAILY_USD)',
    ]);
    expect(mask('0x1234567890abcdef')).toBe('0x1234…cdef');

    // a Polymarket leg: refused, with what to set
    const pmSeen: OrderReport[] = [];
    first.clients.get('polymarket')!.onReport((r) => pmSeen.push(r));
    await first.clients.get('polymarket')!.submit(request('polymarket', '0xabc'));
    expect(pmSeen).toMatchObject([{ status: 'rejected', reason: 'venue_rejected' }]);
    expect(pmSeen[0]!.detail).toMatch(
      /polymarket is not configured for live trading \(set POLYMARKET_PRIVATE_KEY/,
    );

    // the first process places a resting order; the market facts come from the market record
    const k1 = first.clients.get('kalshi')!;
    const seen1: OrderReport[] = [];
    k1.onReport((r) => seen1.push(r));
    await k1.start?.();
    await k1.submit(request('kalshi', T));
    expect(seen1.at(-1)).toMatchObject({ status: 'rejected', reason: 'unknown_market' });
    k1.onMarketData?.(market);
    const req = {
      ...request('kalshi', T),
      clientOrderId: clientOrderId('restart-req-2', 0),
      requestId: 'r2',
    };
    await k1.submit(req);
    expect(seen1.at(-1)).toMatchObject({ clientOrderId: req.clientOrderId, status: 'acknowledged' });
    const venueId = seen1.at(-1)!.venueOrderId;

    // "restart": a new process redoes the same decision; the venue keeps one order and the new process tracks it
    const k2 = second.clients.get('kalshi')!;
    const seen2: OrderReport[] = [];
    k2.onReport((r) => seen2.push(r));
    await k2.start?.();
    k2.onMarketData?.(market);
    await k2.submit(req);
    await waitFor(() => seen2.length > 0, 5_000, 'a report in the second process');
    expect(seen2.at(-1)).toMatchObject({ status: 'acknowledged', venueOrderId: venueId });
    // each process follows the venue's user channel, authenticated
    await waitFor(() => fake.ws.connections.filter((c) => c.open).length === 2, 5_000, 'two user channels');
    expect(fake.authFailures.ws).toBe(0);
    expect([...fake.orders.values()].filter((o) => o.status === 'resting')).toHaveLength(1);
    await k2.cancel(req.clientOrderId);
    expect((await k2.status(req.clientOrderId))?.status).toBe('cancelled');

    // an order that already executed: Kalshi would take its client id again, so the restarted process must look
    // it up first, and track it (fills included) rather than trade twice
    const fak = {
      ...request('kalshi', T),
      clientOrderId: clientOrderId('restart-req-3', 0),
      requestId: 'r3',
      type: 'FAK' as const,
      limitPrice: 510_000,
    };
    await k1.submit(fak);
    await waitFor(
      () => seen1.some((r) => r.clientOrderId === fak.clientOrderId && r.fill),
      5_000,
      'the fill',
    );
    const third = createLiveExecution(config, { now: Date.now, pollMs: 50 });
    processes.push(third);
    const k3 = third.clients.get('kalshi')!;
    const seen3: OrderReport[] = [];
    k3.onReport((r) => seen3.push(r));
    await k3.start?.();
    k3.onMarketData?.(market);
    await k3.submit(fak);
    await waitFor(
      () => seen3.some((r) => r.clientOrderId === fak.clientOrderId && r.fill),
      5_000,
      'the earlier fill, re-tracked',
    );
    expect(seen3[0]).toMatchObject({ status: 'filled', filledShares: 2_000_000 });
    expect([...fake.orders.values()].filter((o) => o.ticker === T && o.status === 'executed')).toHaveLength(
      1,
    );
    expect((await k3.status(fak.clientOrderId))?.confirmedShares).toBe(2_000_000);

    // a decision newer than the process (a standby executor that took over an intent): `resumed` asks for the
    // lookup all the same, and the order executed by the other one is tracked, not placed again
    const late = {
      ...fak,
      clientOrderId: clientOrderId('restart-req-4', 0),
      requestId: 'r4',
      decidedAt: Date.now(),
    };
    await k1.submit(late);
    await waitFor(
      () => seen1.some((r) => r.clientOrderId === late.clientOrderId && r.fill),
      5_000,
      'the late fill',
    );
    await k3.submit({ ...late, resumed: true });
    await waitFor(
      () => seen3.some((r) => r.clientOrderId === late.clientOrderId && r.status === 'filled'),
      5_000,
      'the resumed order, found and tracked',
    );
    expect(seen3.find((r) => r.clientOrderId === late.clientOrderId)).toMatchObject({
      status: 'filled',
      filledShares: 2_000_000,
    });
    expect([...fake.orders.values()].filter((o) => o.ticker === T && o.status === 'executed')).toHaveLength(
      2,
    );
  });
});
