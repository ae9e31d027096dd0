/**
 * Per-order and per-day notional caps, enforced inside the live clients as the last line below the risk guardian
 * (LIVE_MAX_ORDER_USD, LIVE_MAX_DAILY_USD). An order that would break either is refused before it is signed
 * and sent.
 *
 * The daily total counts the notional of orders sent (worst case: as if every order filled completely), per UTC
 * day of the injected clock. A resend of the same client order id is not counted twice; a definitive venue refusal
 * gives its notional back (nothing left the account). At start the caller seeds what was already sent today
 * (from the venue's fills/orders), so a restart does not reset the day.
 */
import { type Money, notional, toDecimal } from '../../core/money.ts';
import type { LiveOrderSpec } from './types.ts';

export interface NotionalCapsOptions {
  /** Largest notional of one order, micro-dollars. */
  readonly maxOrder: Money;
  /** Largest notional sent per UTC day, micro-dollars. */
  readonly maxDaily: Money;
  readonly now: () => number;
  /** Notional already sent today (restart), micro-dollars. */
  readonly spentToday?: Money;
}

export type CapCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

const DAY_MS = 86_400_000;
const usd = (m: Money): string => `$${toDecimal(m)}`;

export class NotionalCaps {
  private readonly opts: NotionalCapsOptions;
  private day: number;
  private spent: Money;
  private readonly reserved = new Map<string, Money>();

  constructor(opts: NotionalCapsOptions) {
    if (!(opts.maxOrder > 0) || !(opts.maxDaily > 0)) {
      throw new Error('notional caps must be positive amounts (LIVE_MAX_ORDER_USD, LIVE_MAX_DAILY_USD)');
    }
    this.opts = opts;
    this.day = Math.floor(opts.now() / DAY_MS);
    this.spent = opts.spentToday ?? 0;
  }

  private roll(): void {
    const d = Math.floor(this.opts.now() / DAY_MS);
    if (d !== this.day) {
      this.day = d;
      this.spent = 0;
      this.reserved.clear();
    }
  }

  /** Counts `notional` for `clientOrderId` if both caps allow it; the same id again is free. */
  reserve(clientOrderId: string, notional: Money): CapCheck {
    this.roll();
    if (this.reserved.has(clientOrderId)) return { ok: true };
    if (notional > this.opts.maxOrder) {
      return {
        ok: false,
        message: `order notional ${usd(notional)} is above LIVE_MAX_ORDER_USD ${usd(this.opts.maxOrder)}`,
      };
    }
    if (this.spent + notional > this.opts.maxDaily) {
      return {
        ok: false,
        message:
          `order notional ${usd(notional)} would bring today's total to ${usd(this.spent + notional)}, ` +
          `above LIVE_MAX_DAILY_USD ${usd(this.opts.maxDaily)}`,
      };
    }
    this.reserved.set(clientOrderId, notional);
    this.spent += notional;
    return { ok: true };
  }

  /** The venue refused the order for good: its notional never left, give it back. */
  release(clientOrderId: string): void {
    const n = this.reserved.get(clientOrderId);
    if (n === undefined) return;
    this.reserved.delete(clientOrderId);
    this.spent -= n;
  }

  /** Sent today (micro-dollars), for the start-up banner and status. */
  spentToday(): Money {
    this.roll();
    return this.spent;
  }

  get limits(): { readonly maxOrder: Money; readonly maxDaily: Money } {
    return { maxOrder: this.opts.maxOrder, maxDaily: this.opts.maxDaily };
  }
}

/** Notional the caps count for an order: limit price × shares, rounded up (the money it can move if it fills). */
export function orderNotional(spec: Pick<LiveOrderSpec, 'limitPrice' | 'shares'>): Money {
  return notional(spec.limitPrice, spec.shares, 'ceil');
}
