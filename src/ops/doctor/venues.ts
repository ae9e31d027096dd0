/**
 * Venue checks of `pm-arb doctor`: each venue's public endpoint answers, its server time vs ours, and — where
 * credentials are configured — a signed request to an authenticated read-only endpoint that also reports balance
 * and allowances. Each venue is one `Check`; the live-execution layer may replace one with its own client.
 */

import { readFileSync } from 'node:fs';
import { toDecimal } from '../../core/money.ts';
import { createKalshiSigner, type KalshiSigner } from '../../venues/kalshi/signing.ts';
import { addressFromPrivateKey, l2Headers } from '../../venues/polymarket/auth.ts';
import { SIGNATURE_TYPES } from '../../venues/polymarket/execution/orders.ts';
import {
  type Check,
  type CheckResult,
  type DoctorContext,
  fail,
  type HttpAnswer,
  http,
  ok,
  parseJson,
  skewResult,
  skip,
  warn,
} from './types.ts';

const cents = (c: number): string => `$${toDecimal(Math.round(c) * 10_000)}`;
/** pUSD (6 decimals) base units → dollars; an allowance of 2^128 or more is the usual "unlimited" approval. */
function units6(v: string): string {
  const n = BigInt(v);
  if (n >= 1n << 128n) return 'unlimited';
  const whole = n / 1_000_000n;
  const frac = (n % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `$${whole}${frac ? `.${frac}` : ''}`;
}

const unreachable = (name: string, base: string, err: unknown, setting: string): CheckResult =>
  fail(name, `${base} unreachable: ${(err as Error).message}`, `check the network/firewall and ${setting}`);

export const kalshiCheck: Check = async (ctx) => {
  const base = ctx.config.kalshi.restUrl.replace(/\/+$/, '');
  const out: CheckResult[] = [];
  let status: HttpAnswer;
  try {
    status = await http(ctx, `${base}/exchange/status`);
  } catch (err) {
    return [unreachable('kalshi', base, err, 'KALSHI_REST_URL')];
  }
  const s = parseJson(status.text) as { exchange_active?: boolean; trading_active?: boolean } | undefined;
  if (status.status !== 200 || !s) {
    out.push(
      fail(
        'kalshi',
        `GET /exchange/status answered HTTP ${status.status}`,
        'check KALSHI_REST_URL (…/trade-api/v2)',
      ),
    );
  } else if (s.exchange_active === false || s.trading_active === false) {
    out.push(
      warn(
        'kalshi',
        `reachable; exchange_active ${s.exchange_active}, trading_active ${s.trading_active}`,
        "the exchange is closed or paused: orders wait until it opens (see Kalshi's schedule)",
      ),
    );
  } else out.push(ok('kalshi', `${base} reachable, exchange and trading active`));
  const date = status.headers.get('date');
  if (date) out.push(skewResult('kalshi.clock', 'Kalshi', Date.parse(date), status.midMs, 1_000));

  const { apiKeyId, privateKeyPath } = ctx.config.kalshi;
  if (!apiKeyId || !privateKeyPath) {
    out.push(
      skip('kalshi.auth', 'no credentials (KALSHI_API_KEY_ID, KALSHI_PRIVATE_KEY_PATH): balance not checked'),
    );
    return out;
  }
  out.push(await kalshiBalance(ctx, base, apiKeyId, privateKeyPath));
  return out;
};

/** Signed GET /portfolio/balance (RSA-PSS, src/venues/kalshi/signing.ts). */
async function kalshiBalance(
  ctx: DoctorContext,
  base: string,
  keyId: string,
  keyPath: string,
): Promise<CheckResult> {
  let signer: KalshiSigner;
  try {
    signer = createKalshiSigner({ keyId, privateKeyPem: readFileSync(keyPath, 'utf8') });
  } catch (err) {
    return fail(
      'kalshi.auth',
      (err as Error).message,
      'point KALSHI_PRIVATE_KEY_PATH at the RSA key Kalshi issued for this key id',
    );
  }
  const path = `${new URL(base).pathname.replace(/\/+$/, '')}/portfolio/balance`;
  let r: HttpAnswer;
  try {
    r = await http(ctx, `${base}/portfolio/balance`, { headers: signer.headers('GET', path, ctx.now()) });
  } catch (err) {
    return fail(
      'kalshi.auth',
      `GET /portfolio/balance: ${(err as Error).message}`,
      'check the network and KALSHI_REST_URL',
    );
  }
  if (r.status === 401 || r.status === 403)
    return fail(
      'kalshi.auth',
      `signed request refused (HTTP ${r.status}): ${r.text.slice(0, 200)}`,
      'check that KALSHI_API_KEY_ID belongs to the key in KALSHI_PRIVATE_KEY_PATH, is not revoked, and the clock is right',
    );
  const b = parseJson(r.text) as
    | { balance?: number; balance_dollars?: number | string; portfolio_value?: number }
    | undefined;
  if (r.status !== 200 || typeof b?.balance !== 'number')
    return fail(
      'kalshi.auth',
      `GET /portfolio/balance answered HTTP ${r.status}: ${r.text.slice(0, 200)}`,
      "retry later; if it persists, check Kalshi's status page",
    );
  const detail = `credentials valid; balance ${cents(b.balance)}${typeof b.portfolio_value === 'number' ? `, portfolio ${cents(b.portfolio_value)}` : ''}`;
  return b.balance > 0
    ? ok('kalshi.auth', detail)
    : warn('kalshi.auth', detail, 'fund the Kalshi account before trading live');
}

export const polymarketCheck: Check = async (ctx) => {
  const clob = ctx.config.polymarket.clobUrl.replace(/\/+$/, '');
  const gamma = ctx.config.polymarket.gammaUrl.replace(/\/+$/, '');
  const out: CheckResult[] = [];
  try {
    const t = await http(ctx, `${clob}/time`);
    const secs = Number(t.text.trim());
    if (t.status !== 200 || !Number.isFinite(secs))
      out.push(fail('polymarket', `GET ${clob}/time answered HTTP ${t.status}`, 'check POLYMARKET_CLOB_URL'));
    else {
      out.push(ok('polymarket', `CLOB ${clob} reachable`));
      out.push(skewResult('polymarket.clock', 'Polymarket', secs * 1000, t.midMs, 1_000));
    }
  } catch (err) {
    out.push(unreachable('polymarket', `CLOB ${clob}`, err, 'POLYMARKET_CLOB_URL'));
  }
  try {
    const g = await http(ctx, `${gamma}/markets?limit=1`);
    out.push(
      g.status === 200 && Array.isArray(parseJson(g.text))
        ? ok('polymarket.gamma', `Gamma ${gamma} reachable`)
        : fail('polymarket.gamma', `GET /markets answered HTTP ${g.status}`, 'check POLYMARKET_GAMMA_URL'),
    );
  } catch (err) {
    out.push(unreachable('polymarket.gamma', `Gamma ${gamma}`, err, 'POLYMARKET_GAMMA_URL'));
  }
  const p = ctx.config.polymarket;
  if (!p.apiKey || !p.apiSecret || !p.apiPassphrase || !p.privateKey) {
    out.push(
      skip(
        'polymarket.auth',
        'no credentials (POLYMARKET_API_KEY, _API_SECRET, _API_PASSPHRASE, _PRIVATE_KEY): balance and allowances not checked',
      ),
    );
    return out;
  }
  out.push(
    await polymarketBalance(
      ctx,
      clob,
      { apiKey: p.apiKey, secret: p.apiSecret, passphrase: p.apiPassphrase },
      p.privateKey,
    ),
  );
  return out;
};

/** L2-signed GET /balance-allowance for the collateral (pUSD): balance and the exchange allowances. */
async function polymarketBalance(
  ctx: DoctorContext,
  clob: string,
  creds: { apiKey: string; secret: string; passphrase: string },
  privateKey: string,
): Promise<CheckResult> {
  let address: string;
  try {
    address = addressFromPrivateKey(privateKey);
  } catch (err) {
    return fail(
      'polymarket.auth',
      (err as Error).message,
      'set POLYMARKET_PRIVATE_KEY to the wallet key the API credentials were derived from',
    );
  }
  const sigType = SIGNATURE_TYPES[ctx.config.polymarket.signatureType];
  const path = '/balance-allowance';
  let r: HttpAnswer;
  try {
    r = await http(ctx, `${clob}${path}?asset_type=COLLATERAL&signature_type=${sigType}`, {
      headers: l2Headers(creds, address, 'GET', path, ctx.now()),
    });
  } catch (err) {
    return fail(
      'polymarket.auth',
      `GET ${path}: ${(err as Error).message}`,
      'check the network and POLYMARKET_CLOB_URL',
    );
  }
  if (r.status === 401 || r.status === 403)
    return fail(
      'polymarket.auth',
      `L2 request refused (HTTP ${r.status}) for ${address}: ${r.text.slice(0, 200)}`,
      "derive the API key, secret and passphrase again from this wallet (the official client's createOrDeriveApiKey) and check the clock",
    );
  const b = parseJson(r.text) as
    | { balance?: string; allowance?: string; allowances?: Record<string, string> }
    | undefined;
  if (r.status !== 200 || typeof b?.balance !== 'string')
    return fail(
      'polymarket.auth',
      `GET ${path} answered HTTP ${r.status}: ${r.text.slice(0, 200)}`,
      "retry later; check Polymarket's status",
    );
  const allowances = b.allowances
    ? Object.values(b.allowances)
    : b.allowance !== undefined
      ? [b.allowance]
      : [];
  const detail = `credentials valid for ${address}; pUSD balance ${units6(b.balance)}, allowances ${allowances.length ? allowances.map(units6).join(', ') : 'none reported'}`;
  if (allowances.length === 0 || allowances.some((a) => BigInt(a) === 0n))
    return warn(
      'polymarket.auth',
      detail,
      'approve the exchange contracts for pUSD (and call GET /balance-allowance/update after funding)',
    );
  if (BigInt(b.balance) === 0n)
    return warn('polymarket.auth', detail, 'fund the wallet with pUSD before trading live');
  return ok('polymarket.auth', detail);
}

/** Binance spot (the oracle feed): reachable, and its millisecond server time for the clock-skew check. */
export const binanceCheck: Check = async (ctx) => {
  const base = ctx.config.binance.restUrl.replace(/\/+$/, '');
  try {
    const r = await http(ctx, `${base}/api/v3/time`);
    const t = (parseJson(r.text) as { serverTime?: number } | undefined)?.serverTime;
    if (r.status !== 200 || typeof t !== 'number')
      return [
        fail(
          'binance',
          `GET /api/v3/time answered HTTP ${r.status}`,
          'check BINANCE_API_URL; Binance refuses some regions: run where api.binance.com answers',
        ),
      ];
    return [ok('binance', `${base} reachable`), skewResult('binance.clock', 'Binance', t, r.midMs, 0)];
  } catch (err) {
    return [unreachable('binance', base, err, 'BINANCE_API_URL')];
  }
};

/** The venue checks, in order. */
export const VENUE_CHECKS: readonly Check[] = [kalshiCheck, polymarketCheck, binanceCheck];
