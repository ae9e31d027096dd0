/**
 * DRAWDOWN_ACTION=flatten: when the drawdown stop or the daily-loss limit fires, the guardian also closes what
 * can still lose — every position that is not part of a hedge (a hedged bundle's worst case is already locked
 * in; selling it at the bids can only lose). It publishes approved sell decisions itself, as if a strategy had
 * asked: one per position, immediate-or-cancel at the lowest price the market takes, so the executor sells into
 * whatever bids there are. Each decision is reserved like any other (a position is never sold twice at once);
 * what does not fill is tried again after `retryMs` of clock time.
 */
import type { Leg, RiskDecision } from '../core/messages.ts';
import { instrumentKey } from '../core/messages.ts';
import { toDecimal } from '../core/money.ts';
import { tickOf } from '../venues/defaults.ts';
import type { Portfolio } from './portfolio.ts';
import { dailyLossLimit, lotSize, type RiskConfig } from './rules.ts';

export class Flattener {
  private readonly lastTry = new Map<string, number>();
  private readonly retryMs: number;

  constructor(opts: { retryMs?: number } = {}) {
    this.retryMs = opts.retryMs ?? 5_000;
  }

  /**
   * Sell decisions for every unhedged position not already being sold (reserved on `pf`). `id()` names each
   * decision; `rule` and `reason` are what the stop recorded.
   */
  plan(
    pf: Portfolio,
    now: number,
    id: (kind: string) => string,
    rule: string,
    reason: string,
  ): RiskDecision[] {
    const out: RiskDecision[] = [];
    for (const p of pf.unhedgedPositions()) {
      const k = `${p.strategy}|${instrumentKey(p.venue, p.tokenId)}`;
      const last = this.lastTry.get(k);
      if (last !== undefined && now - last < this.retryMs) continue;
      const m = pf.market(p.venue, p.marketId);
      const lot = lotSize(p.venue, m);
      const avail = pf.available(p.strategy, p.venue, p.tokenId);
      const shares = avail - (avail % lot);
      if (shares <= 0) continue;
      if (m && m.status !== 'open') continue;
      const tick = tickOf(p.venue, m);
      const leg: Leg = {
        venue: p.venue,
        marketId: p.marketId,
        tokenId: p.tokenId,
        side: 'sell',
        limitPrice: tick,
        shares,
      };
      const requestId = id('flatten');
      pf.reserve(requestId, p.strategy, [leg]);
      this.lastTry.set(k, now);
      out.push({
        type: 'risk_decision',
        id: id('decision'),
        requestId,
        strategy: p.strategy,
        verdict: 'approve',
        rule,
        reason,
        legs: [leg],
        tif: 'IOC',
        decidedAt: now,
      });
    }
    return out;
  }
}

/** The stop in force, if any, with the rule and reason recorded on what it does (alert, flatten decisions). */
export function stopInForce(
  pf: Portfolio,
  cfg: RiskConfig,
): { readonly rule: 'drawdown_stop' | 'daily_loss'; readonly reason: string } | undefined {
  const action = cfg.drawdownAction === 'flatten' ? 'closing unhedged positions' : 'blocking new risk';
  if (pf.drawdownHalted) {
    const dd = pf.highWaterMark - pf.equity;
    return {
      rule: 'drawdown_stop',
      reason: `drawdown ${usd(dd)} from the high-water mark ${usd(pf.highWaterMark)} reached the ${cfg.drawdownLimitBps / 100}% stop (DRAWDOWN_ACTION=${cfg.drawdownAction}: ${action} until RESUME)`,
    };
  }
  if (pf.dailyLossReached) {
    const loss = pf.dailyStartEquity - pf.equity;
    return {
      rule: 'daily_loss',
      reason: `loss today ${usd(loss)} reached the daily limit ${usd(dailyLossLimit(pf.dailyStartEquity, cfg))} (DRAWDOWN_ACTION=${cfg.drawdownAction}: ${action} until the next window)`,
    };
  }
  return undefined;
}

const usd = (m: number): string => (m < 0 ? `-$${toDecimal(-m)}` : `$${toDecimal(m)}`);
