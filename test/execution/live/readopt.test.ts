/**
 * Re-adoption at start: the live client journals each order before it leaves; a new process (after a crash)
 * reads back the orders never seen to end, looks each up at the venue by client order id and tracks it again —
 * its reports go to the adoption sink (no executor run waits for them) — until a redelivered decision submits
 * the same order, which is then handed to the executor with its story so far, never sent twice. Against the fake
 * Kalshi exchange. Also the journal itself: a torn last line is ignored, ended orders are compacted away.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.ts';
import type { Market } from '../../../src/core/messages.ts';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createLiveExecution } from '../../../src/execution/live/live-execution.ts';
import { openOrderJournal } from '../../../src/execution/live/order-journal.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import { startKalshiTradingFake } from '../../fakes/kalshi-trading-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';

const T = 'KXOWNADOPT-26DEC31-T2';
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
  question: 'Owned adoption market?',
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

const order: OrderRequest = {
  clientOrderId: clientOrderId('adopt-req-1', 0),
  requestId: 'adopt-req-1',
  legIndex: 0,
  strategy: 's',
  purpose: 'trade',
  venue: 'kalshi',
  marketId: T,
  tokenId: `${T}:yes`,
  side: 'buy',
  limitPrice: 300_000,
  shares: 4_000_000,
  type: 'GTC',
  decidedAt: 1_000,
};

describe('re-adoption of open orders at start', () => {
  it('a new process finds the order an earlier one sent, follows its fills, and hands it to a redelivered decision', async () => {
    const fake = await startKalshiTradingFake({
      keyId: 'kid-a',
      publicKeyPem: keys.publicKey,
      balance: 100_000_000,
      markets: [{ ticker: T, yesAsks: [[500_000, 10_000_000]] }],
    });
    cleanups.push(() => fake.close());
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-adopt-'));
    const pem = join(dir, 'k.pem');
    writeFileSync(pem, keys.privateKey, { mode: 0o600 });
    const config = loadConfig({
      KALSHI_REST_URL: fake.restUrl,
      KALSHI_WS_URL: fake.wsUrl,
      KALSHI_API_KEY_ID: 'kid-a',
      KALSHI_PRIVATE_KEY_PATH: pem,
    });
    const journalPath = join(dir, 'live-orders.jsonl');

    // the first process places a resting order, then dies (its clients just stop)
    const first = createLiveExecution(config, { now: Date.now, pollMs: 50, journalPath });
    const k1 = first.clients.get('kalshi')!;
    await k1.start?.();
    k1.onMarketData?.(market);
    const seen1: OrderReport[] = [];
    k1.onReport((r) => seen1.push(r));
    await k1.submit(order);
    expect(seen1.at(-1)).toMatchObject({ status: 'acknowledged' });
    const venueId = seen1.at(-1)!.venueOrderId!;
    await k1.stop?.();
    await first.close();

    // the second process re-adopts it at start: reports go to the adoption sink, not to the executor
    const second = createLiveExecution(config, { now: Date.now, pollMs: 50, journalPath });
    cleanups.push(async () => {
      for (const c of second.clients.values()) await c.stop?.();
      await second.close();
    });
    const adopted: OrderReport[] = [];
    second.onAdopted((r) => adopted.push(r));
    const k2 = second.clients.get('kalshi')!;
    const toExecutor: OrderReport[] = [];
    k2.onReport((r) => toExecutor.push(r));
    await k2.start?.();
    expect(second.liveClients.get('kalshi')!.adopted()).toEqual([order.clientOrderId]);
    expect(adopted[0]).toMatchObject({
      clientOrderId: order.clientOrderId,
      status: 'acknowledged',
      venueOrderId: venueId,
    });
    // someone trades against it: the fill reaches the adoption sink under our client order id
    fake.fillResting(venueId, 1_000_000);
    await waitFor(() => adopted.some((r) => r.fill), 5_000, 'the adopted order fill');
    expect(adopted.find((r) => r.fill)).toMatchObject({
      clientOrderId: order.clientOrderId,
      fill: { shares: 1_000_000, settlement: 'confirmed' },
    });
    expect(toExecutor).toEqual([]);
    const states = second.liveClients.get('kalshi')!.orderStates();
    expect(states).toMatchObject([{ status: 'partially_filled', filledShares: 1_000_000 }]);

    // the decision is redelivered: nothing is sent, the executor gets the order's story and follows it
    k2.onMarketData?.(market);
    const before = fake.orders.size;
    await k2.submit(order);
    expect(fake.orders.size).toBe(before);
    expect(toExecutor.map((r) => r.status)).toEqual(adopted.map((r) => r.status));
    expect(second.liveClients.get('kalshi')!.adopted()).toEqual([]);
    fake.fillResting(venueId, 3_000_000);
    await waitFor(
      () => toExecutor.some((r) => r.fill?.shares === 3_000_000),
      5_000,
      'the rest, to the executor',
    );
    expect(adopted.some((r) => r.fill?.shares === 3_000_000)).toBe(false);
    expect([...fake.orders.values()].filter((o) => o.ticker === T)).toHaveLength(1);
  });

  it('journal: ended orders are compacted away, a torn last line is ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-journal-'));
    const path = join(dir, 'j.jsonl');
    const spec = { clientOrderId: 'a.0', venue: 'kalshi' } as never;
    const j = openOrderJournal(path);
    expect(j.pending).toEqual([]);
    j.sent({ req: order, spec, at: 1 });
    j.sent({ req: order, spec: { clientOrderId: 'b.0', venue: 'kalshi' } as never, at: 2 });
    j.done('a.0');
    j.close();
    appendFileSync(path, '{"sent":{"req":'); // a crash mid-write
    const again = openOrderJournal(path);
    expect(again.pending.map((e) => (e.spec as { clientOrderId: string }).clientOrderId)).toEqual(['b.0']);
    again.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
