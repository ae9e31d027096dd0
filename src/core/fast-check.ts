/**
 * Hand-written validators for the bus messages that flow on every tick (oracle ticks, books, opportunities, trade
 * requests, risk decisions, execution reports). Each one accepts exactly what its zod schema in messages.ts accepts
 * and returns the same output (a fresh object, keys in schema order, unknown keys dropped), or undefined where zod
 * would report an issue. Why: zod's safeParse was ~25% of a strategy runner's allocations and a large part of its
 * CPU per tick on Redis; these checks allocate only the output.
 *
 * The zod schemas stay the source of truth: the Redis decoder asks zod again whenever a check here says no (for the
 * error text, and so a disagreement could only ever cost time, never accept something zod refuses), and
 * test/core/fast-check.test.ts holds every validator to its schema on random valid and broken messages. A field
 * added to a schema must be added here too (the test fails until it is).
 *
 * Semantics copied from zod 4: `z.number().int()` = a safe integer; `z.number()` refuses NaN and ±Infinity; an
 * object is a non-null non-array object; an optional key whose value is undefined is kept as undefined when the
 * key is present and left out when it is absent; tuples have exactly their length.
 */
import type {
  ExecutionReport,
  Leg,
  Opportunity,
  OracleTick,
  OrderBook,
  RiskDecision,
  TradeRequest,
} from './messages.ts';

type Obj = Record<string, unknown>;
type Out = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** z.number().int() */
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
/** int.min(0) */
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** price: int.min(0).max(1_000_000) */
const isPrice = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 1_000_000;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isVenue = (v: unknown): boolean => v === 'polymarket' || v === 'kalshi';
const isSide = (v: unknown): boolean => v === 'buy' || v === 'sell';
const isTif = (v: unknown): boolean => v === 'IOC' || v === 'FOK' || v === 'GTC';
const isOppType = (v: unknown): boolean =>
  v === 'oracle_lag' || v === 'cross_venue' || v === 'rebalancing' || v === 'combinatorial';

/** An optional field's value is fine when absent (undefined) or passing `ok`. */
const opt = (v: unknown, ok: (v: unknown) => boolean): boolean => v === undefined || ok(v);
/** Copies an optional field the way zod does: set when defined, kept as undefined only when the key is present. */
function putOpt(out: Out, from: Obj, key: string, v: unknown): void {
  if (v !== undefined) out[key] = v;
  else if (key in from) out[key] = undefined;
}

function leg(v: unknown): Leg | undefined {
  if (!isObj(v)) return undefined;
  const { venue, marketId, tokenId, side, limitPrice, shares } = v;
  if (!isVenue(venue) || !isStr(marketId) || !isStr(tokenId) || !isSide(side)) return undefined;
  if (!isPrice(limitPrice) || !isNat(shares)) return undefined;
  return { venue, marketId, tokenId, side, limitPrice, shares } as Leg;
}

/** z.array(LegSchema) with at least `min` items. */
function legs(v: unknown, min: number): Leg[] | undefined {
  if (!Array.isArray(v) || v.length < min) return undefined;
  const out = new Array<Leg>(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = leg(v[i]);
    if (l === undefined) return undefined;
    out[i] = l;
  }
  return out;
}

/** z.array(DataStampSchema) */
function stamps(v: unknown): Out[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = new Array<Out>(v.length);
  for (let i = 0; i < v.length; i++) {
    const s = v[i];
    if (!isObj(s)) return undefined;
    const { key, eventTime, receiveTime } = s;
    if (!isStr(key) || !opt(eventTime, isInt) || !isInt(receiveTime)) return undefined;
    const o: Out = { key };
    putOpt(o, s, 'eventTime', eventTime);
    o.receiveTime = receiveTime;
    out[i] = o;
  }
  return out;
}

/** z.array(LevelSchema): [price, size] pairs, exactly two items each. */
function levels(v: unknown): [number, number][] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = new Array<[number, number]>(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = v[i];
    if (!Array.isArray(l) || l.length !== 2) return undefined;
    const p = l[0];
    const s = l[1];
    if (!isPrice(p) || !isNat(s)) return undefined;
    out[i] = [p, s];
  }
  return out;
}

export function checkOracleTick(v: unknown): OracleTick | undefined {
  if (!isObj(v)) return undefined;
  const { type, source, symbol, price, bid, ask, stale, eventTime, receiveTime } = v;
  if (type !== 'tick' || (source !== 'binance' && source !== 'chainlink' && source !== 'sim'))
    return undefined;
  if (!isStr(symbol) || !isNat(price) || !opt(bid, isNat) || !opt(ask, isNat)) return undefined;
  if (typeof stale !== 'boolean' || !opt(eventTime, isInt) || !isInt(receiveTime)) return undefined;
  const out: Out = { type, source, symbol, price };
  putOpt(out, v, 'bid', bid);
  putOpt(out, v, 'ask', ask);
  out.stale = stale;
  putOpt(out, v, 'eventTime', eventTime);
  out.receiveTime = receiveTime;
  return out as OracleTick;
}

export function checkOrderBook(v: unknown): OrderBook | undefined {
  if (!isObj(v)) return undefined;
  const { type, venue, marketId, tokenId, seq, stale, eventTime, receiveTime } = v;
  if (type !== 'book' || !isVenue(venue) || !isStr(marketId) || !isStr(tokenId)) return undefined;
  const bids = levels(v.bids);
  if (bids === undefined) return undefined;
  const asks = levels(v.asks);
  if (asks === undefined) return undefined;
  if (!opt(seq, isInt) || typeof stale !== 'boolean' || !opt(eventTime, isInt) || !isInt(receiveTime)) {
    return undefined;
  }
  const out: Out = { type, venue, marketId, tokenId, bids, asks };
  putOpt(out, v, 'seq', seq);
  out.stale = stale;
  putOpt(out, v, 'eventTime', eventTime);
  out.receiveTime = receiveTime;
  return out as OrderBook;
}

function pricing(v: unknown): Out | undefined {
  if (!isObj(v)) return undefined;
  const { source, feed, window, reference, spot, fair, basis } = v;
  if (!isStr(source) || !isStr(feed) || !isStr(window) || !isInt(reference) || !isInt(spot)) return undefined;
  if (!isPrice(fair) || !isNat(basis)) return undefined;
  return { source, feed, window, reference, spot, fair, basis };
}

export function checkOpportunity(v: unknown): Opportunity | undefined {
  if (!isObj(v)) return undefined;
  const { type, id, kind, edge, edgeBps, cost, fees, shares, signal, detectedAt, expiresAt } = v;
  if (type !== 'opportunity' || !isStr(id) || !isOppType(kind)) return undefined;
  const ls = legs(v.legs, 1);
  if (ls === undefined) return undefined;
  if (!isInt(edge) || !isInt(edgeBps) || !isInt(cost) || !isInt(fees) || !isNat(shares)) return undefined;
  // z.number().min(0).max(1): NaN fails both comparisons
  if (typeof signal !== 'number' || !(signal >= 0 && signal <= 1)) return undefined;
  if (!isInt(detectedAt) || !isInt(expiresAt)) return undefined;
  const data = stamps(v.data);
  if (data === undefined) return undefined;
  const { note, minShares, lotShares } = v;
  if (!opt(note, isStr) || !opt(minShares, isNat) || !opt(lotShares, isNat)) return undefined;
  let p: Out | undefined;
  if (v.pricing !== undefined) {
    p = pricing(v.pricing);
    if (p === undefined) return undefined;
  }
  const out: Out = {
    type,
    id,
    kind,
    legs: ls,
    edge,
    edgeBps,
    cost,
    fees,
    shares,
    signal,
    detectedAt,
    expiresAt,
    data,
  };
  putOpt(out, v, 'note', note);
  putOpt(out, v, 'minShares', minShares);
  putOpt(out, v, 'lotShares', lotShares);
  putOpt(out, v, 'pricing', p);
  return out as Opportunity;
}

export function checkTradeRequest(v: unknown): TradeRequest | undefined {
  if (!isObj(v)) return undefined;
  const { type, id, strategy, opportunityId, kind, tif, expectedEdge, createdAt, bundleId } = v;
  if (type !== 'trade_request' || !isStr(id) || !isStr(strategy)) return undefined;
  if (!opt(opportunityId, isStr) || !opt(kind, isOppType)) return undefined;
  const ls = legs(v.legs, 1);
  if (ls === undefined) return undefined;
  if (!isTif(tif) || !isInt(expectedEdge) || !isInt(createdAt)) return undefined;
  const data = stamps(v.data);
  if (data === undefined || !opt(bundleId, isStr)) return undefined;
  const out: Out = { type, id, strategy };
  putOpt(out, v, 'opportunityId', opportunityId);
  putOpt(out, v, 'kind', kind);
  out.legs = ls;
  out.tif = tif;
  out.expectedEdge = expectedEdge;
  out.createdAt = createdAt;
  out.data = data;
  putOpt(out, v, 'bundleId', bundleId);
  return out as TradeRequest;
}

export function checkRiskDecision(v: unknown): RiskDecision | undefined {
  if (!isObj(v)) return undefined;
  const { type, id, requestId, strategy, verdict, rule, reason, tif, decidedAt, bundleId, fence, sig } = v;
  if (type !== 'risk_decision' || !isStr(id) || !isStr(requestId) || !isStr(strategy)) return undefined;
  if (verdict !== 'approve' && verdict !== 'reduce' && verdict !== 'reject') return undefined;
  if (!isStr(rule) || !isStr(reason)) return undefined;
  const ls = legs(v.legs, 0);
  if (ls === undefined) return undefined;
  if (!isTif(tif) || !isInt(decidedAt) || !opt(bundleId, isStr) || !opt(fence, isNat) || !opt(sig, isStr)) {
    return undefined;
  }
  const out: Out = { type, id, requestId, strategy, verdict, rule, reason, legs: ls, tif, decidedAt };
  putOpt(out, v, 'bundleId', bundleId);
  putOpt(out, v, 'fence', fence);
  putOpt(out, v, 'sig', sig);
  return out as RiskDecision;
}

const isExposure = (v: unknown): boolean => v === null || isNat(v);

export function checkExecutionReport(v: unknown): ExecutionReport | undefined {
  if (!isObj(v)) return undefined;
  const { type, id, requestId, strategy, status, fills, legRiskCost, fees, reason, legExposureMs, ts } = v;
  if (type !== 'execution_report' || !isStr(id) || !isStr(requestId) || !isStr(strategy)) return undefined;
  if (
    status !== 'filled' &&
    status !== 'partial' &&
    status !== 'unwound' &&
    status !== 'rejected' &&
    status !== 'failed'
  ) {
    return undefined;
  }
  if (!isNat(fills) || !isInt(legRiskCost) || !isInt(fees) || !opt(reason, isStr) || !isInt(ts))
    return undefined;
  let exposure: unknown[] | undefined;
  if (legExposureMs !== undefined) {
    if (!Array.isArray(legExposureMs)) return undefined;
    exposure = new Array(legExposureMs.length);
    for (let i = 0; i < legExposureMs.length; i++) {
      const e = legExposureMs[i];
      if (!isExposure(e)) return undefined;
      exposure[i] = e;
    }
  }
  const out: Out = { type, id, requestId, strategy, status, fills, legRiskCost, fees };
  putOpt(out, v, 'reason', reason);
  putOpt(out, v, 'legExposureMs', exposure);
  out.ts = ts;
  return out as ExecutionReport;
}
