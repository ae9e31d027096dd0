/**
 * The Polymarket CLOB V2 live order client (VenueOrderClient).
 *
 * Signing and hashing are ours on viem with the SDK's contract table and header builders (orders.ts, auth.ts):
 * the SDK's own order builder draws a random salt and stamps Date.now(), so the order id (the hash) could not be
 * known before sending nor rebuilt after a restart, and its HTTP layer has no timeout and turns errors into
 * values. Here the hash is computed first, so "was it placed?" is one GET /data/order/{hash}.
 *
 * Every write is sent once (no HTTP-level retry); an ambiguous answer goes through submitOnce (live/submit.ts).
 * Reads retry on 429/5xx/timeouts. Notional caps are checked before signing.
 */
import { type Address, getAddress, type Hex } from 'viem';
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts';
import type { Money } from '../../../core/money.ts';
import { createHttpClient, type HttpClient, HttpError, type Query } from '../../../feeds/http.ts';
import type { RateLimiter } from '../../../feeds/rate-limit.ts';
import { type NotionalCaps, orderNotional } from '../../live/caps.ts';
import { type LookupOutcome, type SendOutcome, type SubmitPolicy, submitOnce } from '../../live/submit.ts';
import type {
  AmendResult,
  CancelAllResult,
  CancelResult,
  LiveBalance,
  LiveOrderSpec,
  LiveOrderState,
  LivePosition,
  PositionQuery,
  PreparedOrder,
  SubmitResult,
  VenueOrderClient,
} from '../../live/types.ts';
import { OrderSpecError } from '../../live/types.ts';
import { type ClobCredentials, l1Headers, l2Headers } from './auth.ts';
import { classifyClobStatus, errorMessage, reasonFromMessage } from './errors.ts';
import {
  buildOrder,
  exchangeDomain,
  type OrderSigner,
  orderHash,
  postOrderBody,
  SIGNATURE_TYPES,
  type SignatureTypeName,
  signOrder,
} from './orders.ts';
import { amount, fillsFromTrade, stateFromOpenOrder, statusFromClob } from './parse.ts';
import {
  END_CURSOR,
  INITIAL_CURSOR,
  type WireApiKey,
  type WireAssetType,
  type WireBalanceAllowance,
  type WireCancelResponse,
  type WireOpenOrder,
  type WirePage,
  type WirePostOrderBody,
  type WirePostOrderResponse,
  type WireTrade,
} from './wire.ts';

export const POLYGON_CHAIN_ID = 137;

export interface PolymarketOrderClientOptions {
  /** CLOB REST base, e.g. https://clob.polymarket.com (tests: a fake on 127.0.0.1). */
  readonly clobUrl: string;
  readonly chainId?: number;
  /** Hex private key of the signing EOA; never logged. */
  readonly privateKey: Hex;
  readonly signatureType: SignatureTypeName;
  /** The proxy / safe holding the funds (signature types proxy and gnosis-safe); defaults to the EOA. */
  readonly funder?: string;
  readonly credentials: ClobCredentials;
  /** Wall clock for HMAC timestamps and receive stamps. */
  readonly now: () => number;
  readonly caps: NotionalCaps;
  /** Whole-request timeout, ms (default 10 s). */
  readonly timeoutMs?: number;
  readonly limiter?: RateLimiter;
  readonly submitPolicy?: SubmitPolicy;
}

export interface PolymarketOrderClient extends VenueOrderClient {
  readonly venue: 'polymarket';
  /** The signing EOA and the funder (maker). */
  readonly addresses: { readonly signer: Address; readonly maker: Address };
  /** GET /balance-allowance/update: makes the CLOB re-read on-chain balances and allowances (after funding). */
  refreshBalanceAllowance(assetType: WireAssetType, tokenId?: string): Promise<void>;
}

const assetTypeFor = (q: Pick<PositionQuery, 'polymarket'>): WireAssetType =>
  q.polymarket?.protocol === 'v2' ? 'CONDITIONAL-V2' : 'CONDITIONAL';

export function createPolymarketOrderClient(opts: PolymarketOrderClientOptions): PolymarketOrderClient {
  const chainId = opts.chainId ?? POLYGON_CHAIN_ID;
  const account: LocalAccount = privateKeyToAccount(opts.privateKey);
  const signatureType = SIGNATURE_TYPES[opts.signatureType];
  if (signatureType === 3) {
    throw new Error(
      'POLYMARKET_SIGNATURE_TYPE=eip-1271 (deposit wallets) is not supported yet: use eoa, proxy or gnosis-safe',
    );
  }
  if (signatureType !== 0 && !opts.funder) {
    throw new Error(
      `POLYMARKET_SIGNATURE_TYPE=${opts.signatureType} needs POLYMARKET_FUNDER_ADDRESS (the proxy or safe holding the funds)`,
    );
  }
  const maker = getAddress(opts.funder ?? account.address);
  if (signatureType === 0 && maker !== account.address) {
    throw new Error(
      'POLYMARKET_FUNDER_ADDRESS must be the key’s own address for signature type eoa (or choose proxy / gnosis-safe)',
    );
  }
  const signer: OrderSigner = { address: account.address, maker, signatureType, account };
  const http: HttpClient = createHttpClient({
    baseUrl: opts.clobUrl,
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: 2,
    limiter: opts.limiter,
    rateAlias: 'clob',
  });
  const ours = (o: { owner: string; maker: string }): boolean =>
    o.owner === opts.credentials.key || o.maker.toLowerCase() === maker.toLowerCase();

  async function call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    query?: Query,
    retries?: number,
  ) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = await l2Headers(account, opts.credentials, method, path, text, opts.now());
    return http.request<T>({ method, path, body, query, headers, retries });
  }

  async function prepareSigned(
    spec: LiveOrderSpec,
  ): Promise<{ prepared: PreparedOrder; body: WirePostOrderBody; hash: Hex }> {
    if (!spec.polymarket) {
      throw new OrderSpecError(
        'invalid_order',
        'a Polymarket order needs the market facts (protocol, negRisk)',
      );
    }
    const domain = exchangeDomain(chainId, spec.polymarket);
    const order = buildOrder(spec, signer);
    const hash = orderHash(order, domain);
    const signed = await signOrder(order, domain, account);
    const body = postOrderBody(signed, opts.credentials.key, spec);
    return {
      body,
      hash,
      prepared: {
        venue: 'polymarket',
        clientOrderId: spec.clientOrderId,
        venueOrderId: hash,
        method: 'POST',
        path: '/order',
        body,
        notional: orderNotional(spec),
      },
    };
  }

  function stateFromResponse(spec: LiveOrderSpec, r: WirePostOrderResponse, hash: Hex): LiveOrderState {
    const filled = amount(spec.side === 'buy' ? r.takingAmount : r.makingAmount);
    return {
      venue: 'polymarket',
      clientOrderId: spec.clientOrderId,
      venueOrderId: r.orderID || hash,
      marketId: spec.marketId,
      tokenId: spec.tokenId,
      side: spec.side,
      limitPrice: spec.limitPrice,
      shares: spec.shares,
      filledShares: filled,
      status: statusFromClob(r.status, filled, spec.shares, spec.type),
    };
  }

  async function lookupHash(hash: string, clientOrderId: string): Promise<LookupOutcome> {
    try {
      const res = await call<WireOpenOrder | null>('GET', `/data/order/${hash}`);
      const o = res.data;
      if (o === null || typeof o !== 'object' || !('id' in o) || !o.id) return { kind: 'absent' };
      return { kind: 'found', order: stateFromOpenOrder(o, clientOrderId) };
    } catch (e) {
      if (e instanceof HttpError && e.kind === 'status' && e.status === 404) return { kind: 'absent' };
      return { kind: 'error', message: (e as Error).message };
    }
  }

  async function pages<T>(path: string, query: Query = {}): Promise<T[]> {
    const out: T[] = [];
    let cursor = INITIAL_CURSOR;
    for (let i = 0; i < 1_000 && cursor !== END_CURSOR && cursor !== ''; i++) {
      const res = await call<WirePage<T>>('GET', path, undefined, { ...query, next_cursor: cursor });
      out.push(...res.data.data);
      cursor = res.data.next_cursor;
    }
    return out;
  }

  function cancelResult(r: WireCancelResponse): CancelAllResult {
    return {
      cancelled: [...r.canceled],
      failed: Object.entries(r.not_canceled ?? {}).map(([venueOrderId, message]) => ({
        venueOrderId,
        message,
      })),
    };
  }

  const client: PolymarketOrderClient = {
    venue: 'polymarket',
    addresses: { signer: account.address, maker },

    async prepare(spec) {
      return (await prepareSigned(spec)).prepared;
    },

    async submit(spec): Promise<SubmitResult> {
      const cap = opts.caps.reserve(spec.clientOrderId, orderNotional(spec));
      if (!cap.ok) return { kind: 'rejected', reason: 'cap_exceeded', status: 0, message: cap.message };
      let signed: Awaited<ReturnType<typeof prepareSigned>>;
      try {
        signed = await prepareSigned(spec);
      } catch (e) {
        opts.caps.release(spec.clientOrderId);
        if (e instanceof OrderSpecError)
          return { kind: 'rejected', reason: e.reason, status: 0, message: e.message };
        throw e;
      }
      const send = async (): Promise<SendOutcome> => {
        try {
          const res = await call<WirePostOrderResponse>('POST', '/order', signed.body, undefined, 0);
          const r = res.data;
          if (!r || r.success === false) {
            const message = r?.errorMsg ?? 'empty answer';
            return { kind: 'rejected', reason: reasonFromMessage(message), status: res.status, message };
          }
          return { kind: 'accepted', order: stateFromResponse(spec, r, signed.hash) };
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          if (e.kind !== 'status') return { kind: 'ambiguous', status: e.status, message: e.message };
          const c = classifyClobStatus(e.status, e.body);
          return c.kind === 'ok' ? { kind: 'ambiguous', status: e.status, message: e.message } : c;
        }
      };
      const result = await submitOnce(
        { send, lookup: () => lookupHash(signed.hash, spec.clientOrderId) },
        opts.submitPolicy,
      );
      if (result.kind === 'rejected') opts.caps.release(spec.clientOrderId);
      return result;
    },

    async amend(): Promise<AmendResult> {
      return {
        kind: 'rejected',
        reason: 'unsupported',
        status: 0,
        message: 'Polymarket orders cannot be amended: cancel and place a new one',
      };
    },

    async cancel(order): Promise<CancelResult> {
      try {
        const res = await call<WireCancelResponse>(
          'DELETE',
          '/order',
          { orderID: order.venueOrderId },
          undefined,
          0,
        );
        const r = cancelResult(res.data);
        if (r.cancelled.includes(order.venueOrderId))
          return { kind: 'cancelled', venueOrderId: order.venueOrderId };
        const why = r.failed.find((f) => f.venueOrderId === order.venueOrderId)?.message ?? 'not cancelled';
        return { kind: 'rejected', reason: reasonFromMessage(why), status: res.status, message: why };
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        if (e.kind !== 'status') return { kind: 'unknown', message: e.message };
        const c = classifyClobStatus(e.status, e.body);
        if (c.kind === 'rejected') return c;
        return { kind: 'unknown', message: `${e.message} ${errorMessage(e.body)}`.trim() };
      }
    },

    async cancelAll() {
      const res = await call<WireCancelResponse>('DELETE', '/cancel-all', undefined, undefined, 0);
      return cancelResult(res.data);
    },

    async lookup(spec) {
      const { hash } = await prepareSigned(spec);
      const r = await lookupHash(hash, spec.clientOrderId);
      if (r.kind === 'error') throw new Error(`looking up ${spec.clientOrderId} failed: ${r.message}`);
      return r.kind === 'found' ? r.order : undefined;
    },

    async openOrders() {
      const rows = await pages<WireOpenOrder>('/data/orders');
      return rows
        .map((o) => stateFromOpenOrder(o))
        .filter((o) => o.status === 'open' || o.status === 'partially_filled');
    },

    async fills(sinceMs) {
      const trades = await pages<WireTrade>('/data/trades', { after: Math.floor(sinceMs / 1000) });
      return trades.flatMap((t) => fillsFromTrade(t, ours));
    },

    async positions(tokens = []) {
      const out: LivePosition[] = [];
      for (const t of tokens) {
        const res = await call<WireBalanceAllowance>('GET', '/balance-allowance', undefined, {
          asset_type: assetTypeFor(t),
          token_id: t.tokenId,
          signature_type: signatureType,
        });
        out.push({
          venue: 'polymarket',
          marketId: t.marketId,
          tokenId: t.tokenId,
          shares: units(res.data.balance),
        });
      }
      return out;
    },

    async balance(): Promise<LiveBalance> {
      const res = await call<WireBalanceAllowance>('GET', '/balance-allowance', undefined, {
        asset_type: 'COLLATERAL',
        signature_type: signatureType,
      });
      return { venue: 'polymarket', available: units(res.data.balance) };
    },

    async refreshBalanceAllowance(assetType, tokenId) {
      await call('GET', '/balance-allowance/update', undefined, {
        asset_type: assetType,
        token_id: tokenId,
        signature_type: signatureType,
      });
    },

    close: () => http.close(),
  };
  return client;
}

/** Integer 1e-6 unit strings (balances) → micro-units: the same scale. */
function units(s: string): Money {
  if (!/^\d+$/.test(s)) throw new Error(`balance is not an integer amount: ${JSON.stringify(s)}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`balance ${s} exceeds the exact range`);
  return n;
}

/**
 * Creates (or, when one exists, derives) the L2 API credentials with an L1 wallet signature: POST /auth/api-key,
 * then GET /auth/derive-api-key. Run once when setting up; store the result as POLYMARKET_API_KEY/SECRET/PASSPHRASE.
 */
export async function createOrDeriveApiCredentials(o: {
  clobUrl: string;
  privateKey: Hex;
  chainId?: number;
  now: () => number;
}): Promise<ClobCredentials> {
  const account = privateKeyToAccount(o.privateKey);
  const http = createHttpClient({ baseUrl: o.clobUrl, retries: 1 });
  const chainId = o.chainId ?? POLYGON_CHAIN_ID;
  try {
    const asCreds = (k: WireApiKey): ClobCredentials => ({
      key: k.apiKey,
      secret: k.secret,
      passphrase: k.passphrase,
    });
    try {
      const created = await http.request<WireApiKey>({
        method: 'POST',
        path: '/auth/api-key',
        headers: await l1Headers(account, chainId, o.now()),
        retries: 0,
      });
      if (created.data?.apiKey) return asCreds(created.data);
    } catch (e) {
      if (!(e instanceof HttpError) || e.kind !== 'status' || e.status >= 500) throw e;
    }
    const derived = await http.request<WireApiKey>({
      method: 'GET',
      path: '/auth/derive-api-key',
      headers: await l1Headers(account, chainId, o.now()),
    });
    return asCreds(derived.data);
  } finally {
    await http.close();
  }
}
