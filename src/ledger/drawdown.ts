/**
 * Drawdown and daily loss of an equity curve, measured the way the limits are set: the fall from the high-water
 * mark as a share of that mark *at the time* (a 20% limit is 20% of the peak it is measured from), and the loss
 * from the day's starting equity, the day opening at `resetHourUtc` as the risk guardian's window does.
 *
 * Feed it every equity observation in time order (`observe(equity, ts)`). Amounts are micro-dollars; the
 * percentages are ratios for people (floats), rounded to 4 decimals of a percent.
 */
import type { Money } from '../core/money.ts';

const DAY = 86_400_000;

export class DrawdownTracker {
  highWaterMark: Money;
  /** Largest fall from the high-water mark, in dollars, and the largest as a share of the mark then. */
  maxDrawdown: Money = 0;
  private maxDdRatio = 0;
  /** When the largest drawdown (as a share of the mark) was seen, epoch ms; undefined before any. */
  maxDrawdownAt: number | undefined;
  /** Largest loss below a day's starting equity, in dollars and as a share of that start. */
  maxDailyLoss: Money = 0;
  private maxDayRatio = 0;
  private dayEnd = Number.NEGATIVE_INFINITY;
  private dayStart: Money;
  private readonly resetHourUtc: number;
  /** The equity last observed: the same equity again within the same day changes nothing (most book updates). */
  private lastEquity: Money | undefined;

  constructor(initialEquity: Money, resetHourUtc = 0) {
    this.highWaterMark = initialEquity;
    this.dayStart = initialEquity;
    this.resetHourUtc = resetHourUtc;
  }

  observe(equity: Money, ts: number): void {
    if (equity === this.lastEquity && ts < this.dayEnd) return;
    this.lastEquity = equity;
    if (ts >= this.dayEnd) {
      const off = this.resetHourUtc * 3_600_000;
      const start = Math.floor((ts - off) / DAY) * DAY + off;
      // the first observation opens the first window at the starting equity given, later ones at the equity then
      if (this.dayEnd !== Number.NEGATIVE_INFINITY) this.dayStart = equity;
      this.dayEnd = start + DAY;
    }
    if (equity > this.highWaterMark) this.highWaterMark = equity;
    const dd = this.highWaterMark - equity;
    if (dd > this.maxDrawdown) this.maxDrawdown = dd;
    if (this.highWaterMark > 0 && dd / this.highWaterMark > this.maxDdRatio) {
      this.maxDdRatio = dd / this.highWaterMark;
      this.maxDrawdownAt = ts;
    }
    const loss = this.dayStart - equity;
    if (loss > this.maxDailyLoss) this.maxDailyLoss = loss;
    if (this.dayStart > 0 && loss / this.dayStart > this.maxDayRatio) this.maxDayRatio = loss / this.dayStart;
  }

  /** Largest drawdown as a percentage of the high-water mark it fell from. */
  get maxDrawdownPct(): number {
    return Math.round(this.maxDdRatio * 1e6) / 1e4;
  }

  /** Largest daily loss as a percentage of that day's starting equity. */
  get maxDailyLossPct(): number {
    return Math.round(this.maxDayRatio * 1e6) / 1e4;
  }
}
