/**
 * Live execution for `pm-arb run --live`: one live ExecutionClient per venue whose credentials are configured
 * (from-config.ts), each with its report stream (the venue's user channel, REST polling as the fallback), the market
 * facts an order needs (tick, neg-risk) read from the market records on the bus, and the shared notional caps
 * (LIVE_MAX_ORDER_USD / LIVE_MAX_DAILY_USD). A venue without credentials gets a client that refuses every order
 * with the reason in words, so a leg there is rejected, never silently dropped.
 *
 * `summary()` is what the start confirmation shows: venues, masked accounts, balances, caps. No secret is in it.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../core/config.ts';
import type { Venue } from '../../core/messages.ts';
import { VENUES } from '../../core/messages.ts';
import { toDecimal } from '../../core/money.ts';
import type { KalshiOrderClient } from '../../venues/kalshi/execution/client.ts';
import { createKalshiUserChannel } from '../../venues/kalshi/execution/user-channel.ts';
import { NotionalCaps } from '../../venues/live/caps.ts';
import { liveClientsFromConfig } from '../../venues/live/from-config.ts';
import { type ReportSocket, ReportStream } from '../../venues/live/reports.ts';
import type { VenueOrderClient } from '../../venues/live/types.ts';
import type { PolymarketOrderClient } from '../../venues/polymarket/execution/client.ts';
import { createPolymarketUserChannel } from '../../venues/polymarket/execution/user-channel.ts';
import type { ExecutionClient, MarketEvent, OrderReport, OrderRequest, OrderState } from '../types.ts';
import { createLiveExecutionClient, type LiveExecutionClient } from './client.ts';
import { openOrderJournal } from './order-journal.ts';
import type { SpecFacts } from './to-execution.ts';

export interface LiveExecution {
  /** One client per venue: live where configured, a refusing one elsewhere. */
  readonly clients: ReadonlyMap<Venue, ExecutionClient>;
  /** The venues that trade for real. */
  readonly venues: readonly Venue[];
  /** What could not be built, per venue (which variables to set). */
  readonly problems: readonly string[];
  /** Lines for the start confirmation: venues, masked accounts, balances, caps. */
  summary(): Promise<string[]>;
  /** The venue order clients that trade for real (reconciliation reads positions, orders, balances there). */
  readonly venueClients: ReadonlyMap<Venue, VenueOrderClient>;
  /** The live clients of those venues (their order state machines). */
  readonly liveClients: ReadonlyMap<Venue, LiveExecutionClient>;
  /** Polymarket facts of a market seen on the bus (for the per-token position reads); undefined = not seen. */
  polymarketFacts(marketId: string): { protocol: 'v1' | 'v2'; negRisk: boolean } | undefined;
  /** Where the reports of orders re-adopted at start go (set before the executor starts the clients). */
  onAdopted(listener: (r: OrderReport, state: OrderState) => void): void;
  /** Closes the venue clients (after the executor stopped). */
  close(): Promise<void>;
}

export interface LiveExecutionOptions {
  readonly now: () => number;
  /** Report polling period (default 1 s). */
  readonly pollMs?: number;
  readonly onError?: (venue: Venue, err: Error) => void;
  /**
   * The journal of orders sent (order-journal.ts, e.g. DATA_DIR/live-orders.jsonl): orders an earlier process
   * sent and never saw end are re-adopted at start. Absent: no journal, nothing re-adopted.
   */
  readonly journalPath?: string;
}

/** `0x1234…cdef`, `abcd…wxyz`: enough to recognise an account, not enough to be one. */
export function mask(s: string): string {
  return s.length <= 10 ? '…' : `${s.slice(0, 6)}…${s.slice(-4)}`;
}

/** Tick, neg-risk and Polymarket protocol of the markets seen on the bus, keyed venue:marketId. */
export function marketFacts(now: () => number) {
  const markets = new Map<string, { tickSize: number; negRisk: boolean; protocol: 'v1' | 'v2' }>();
  return {
    onMarketData(e: MarketEvent): void {
      if (e.type !== 'market') return;
      markets.set(`${e.venue}:${e.marketId}`, {
        tickSize: e.tickSize,
        negRisk: e.negRiskGroup !== undefined,
        // absent on the record = protocol v1 (CTF exchange V2, domain "2"); "v2" = ExchangeV3 (domain "3")
        protocol: e.protocol ?? 'v1',
      });
    },
    polymarket(marketId: string): { protocol: 'v1' | 'v2'; negRisk: boolean } | undefined {
      const m = markets.get(`polymarket:${marketId}`);
      return m ? { protocol: m.protocol, negRisk: m.negRisk } : undefined;
    },
    facts(req: OrderRequest): SpecFacts | undefined {
      const m = markets.get(`${req.venue}:${req.marketId}`);
      if (!m) return undefined;
      return {
        tickSize: m.tickSize,
        createdAt: req.decidedAt ?? now(),
        ...(req.venue === 'polymarket' ? { polymarket: { protocol: m.protocol, negRisk: m.negRisk } } : {}),
      };
    },
  };
}

/** The venue's user channel (websocket) for order and fill reports; polling stays the fallback. */
function userChannel(
  config: Config,
  vc: VenueOrderClient,
  now: () => number,
  onError: (err: Error) => void,
): ReportSocket | undefined {
  if (vc.venue === 'polymarket') {
    const p = config.polymarket;
    const maker = (vc as PolymarketOrderClient).addresses.maker;
    return createPolymarketUserChannel({
      url: p.wsUserUrl,
      credentials: { key: p.apiKey!, secret: p.apiSecret!, passphrase: p.apiPassphrase! },
      maker,
      now,
      onError,
    });
  }
  const k = config.kalshi;
  if (!k.apiKeyId || !k.privateKeyPath) return undefined;
  const kc = vc as KalshiOrderClient;
  return createKalshiUserChannel({
    url: k.wsUrl,
    keyId: k.apiKeyId,
    privateKeyPem: readFileSync(k.privateKeyPath, 'utf8'),
    now,
    known: (id, cid) => kc.known(id, cid),
    onError,
  });
}

/** A venue that is not configured for live trading: every order is rejected with `why`. */
function refusingClient(venue: Venue, why: string): ExecutionClient {
  const listeners: ((r: OrderReport) => void)[] = [];
  return {
    venue,
    mode: 'live',
    async submit(req) {
      for (const l of listeners)
        l({
          clientOrderId: req.clientOrderId,
          venue,
          status: 'rejected',
          reason: 'venue_rejected',
          detail: why,
          ts: Date.now(),
        });
    },
    async cancel() {},
    async cancelAll() {},
    async status() {
      return undefined;
    },
    onReport(l) {
      listeners.push(l);
      return () => {
        const i = listeners.indexOf(l);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
  };
}

export function createLiveExecution(config: Config, o: LiveExecutionOptions): LiveExecution {
  const caps = new NotionalCaps({
    maxOrder: config.live.maxOrderUsd,
    maxDaily: config.live.maxDailyUsd,
    now: o.now,
  });
  const built = liveClientsFromConfig(config, { now: o.now, caps });
  const byVenue = new Map<Venue, VenueOrderClient>(built.clients.map((c) => [c.venue, c]));
  const clients = new Map<Venue, ExecutionClient>();
  const liveClients = new Map<Venue, LiveExecutionClient>();
  const journal = o.journalPath && built.clients.length > 0 ? openOrderJournal(o.journalPath) : undefined;
  const adoptedListeners: ((r: OrderReport, state: OrderState) => void)[] = [];
  let pmFacts: ReturnType<typeof marketFacts> | undefined;
  for (const venue of VENUES) {
    const vc = byVenue.get(venue);
    if (!vc) {
      const problem = built.problems.find((p) => p.startsWith(`${venue}:`));
      clients.set(
        venue,
        refusingClient(
          venue,
          `${venue} is not configured for live trading${problem ? ` (${problem.slice(venue.length + 2)})` : ''}`,
        ),
      );
      continue;
    }
    const facts = marketFacts(o.now);
    if (venue === 'polymarket') pmFacts = facts;
    const onError = (err: Error): void => o.onError?.(venue, err);
    const reports = new ReportStream({
      client: vc,
      socket: userChannel(config, vc, o.now, onError),
      now: o.now,
      pollMs: o.pollMs ?? 1_000,
      // with the user channel up, polling only catches what the socket missed
      pollConnectedMs: o.pollMs ?? 5_000,
      onError,
    });
    const lc = createLiveExecutionClient({
      client: vc,
      reports,
      now: o.now,
      facts: facts.facts,
      onMarketData: facts.onMarketData,
      ...(journal ? { journal } : {}),
      onAdopted: (r, state) => {
        for (const l of adoptedListeners) l(r, state);
      },
    });
    clients.set(venue, lc);
    liveClients.set(venue, lc);
  }

  const account = (c: VenueOrderClient): string => {
    const a = (c as { addresses?: { signer: string; maker: string } }).addresses;
    if (a) return `wallet ${mask(a.signer)}${a.maker !== a.signer ? `, funder ${mask(a.maker)}` : ''}`;
    return config.kalshi.apiKeyId ? `API key ${mask(config.kalshi.apiKeyId)}` : 'account';
  };

  return {
    clients,
    venueClients: byVenue,
    liveClients,
    polymarketFacts: (marketId) => pmFacts?.polymarket(marketId),
    onAdopted(l) {
      adoptedListeners.push(l);
    },
    venues: [...byVenue.keys()],
    problems: built.problems,
    async summary() {
      const lines: string[] = [];
      for (const c of built.clients) {
        const bal = await c.balance().then(
          (b) => `balance $${toDecimal(b.available)}`,
          (e: Error) => `balance unknown (${e.message})`,
        );
        lines.push(`${c.venue}: LIVE, ${account(c)}, ${bal}`);
      }
      for (const p of built.problems) lines.push(`${p.split(':')[0]}: not configured, its legs are rejected`);
      lines.push(
        `caps: $${toDecimal(config.live.maxOrderUsd)} per order (LIVE_MAX_ORDER_USD), ` +
          `$${toDecimal(config.live.maxDailyUsd)} per UTC day (LIVE_MAX_DAILY_USD)`,
      );
      return lines;
    },
    async close() {
      await Promise.all(built.clients.map((c) => c.close()));
      journal?.close();
    },
  };
}
