/**
 * Token-bucket rate limiting for venue endpoints. A bucket holds up to `capacity` tokens and refills `refill`
 * tokens every `intervalMs`, continuously (so 300/10 s is one token every 33.3 ms, with bursts up to 300).
 * `await take(cost)` waits in FIFO order until the tokens are there. Venue limits are configurable per endpoint
 * through `createRateLimiter({ rules })`; the Polymarket defaults (API notes P12) are exported below.
 */
import { sleep } from './backoff.ts';

export interface BucketOptions {
  readonly capacity: number;
  /** Length of the refill window, ms. */
  readonly intervalMs: number;
  /** Tokens added per window (default: capacity). */
  readonly refill?: number;
  /** Monotonic ms (default performance.now); tests inject their own. */
  readonly now?: () => number;
  /** How to wait (default a real-timer sleep). */
  readonly wait?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  readonly capacity: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<void>;
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private waitingCount = 0;

  constructor(opts: BucketOptions) {
    if (!(opts.capacity > 0) || !(opts.intervalMs > 0)) {
      throw new Error(
        `token bucket needs capacity > 0 and intervalMs > 0 (got ${opts.capacity}, ${opts.intervalMs})`,
      );
    }
    this.capacity = opts.capacity;
    this.perMs = (opts.refill ?? opts.capacity) / opts.intervalMs;
    this.now = opts.now ?? (() => performance.now());
    this.wait = opts.wait ?? ((ms) => sleep(ms));
    this.tokens = opts.capacity;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.perMs);
      this.last = t;
    }
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Requests currently waiting. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Takes `cost` tokens if they are there now. */
  tryTake(cost = 1): boolean {
    this.refill();
    if (this.waitingCount === 0 && this.tokens >= cost) {
      this.tokens -= cost;
      return true;
    }
    return false;
  }

  /** Waits (FIFO) until `cost` tokens are available and takes them. */
  take(cost = 1): Promise<void> {
    if (cost > this.capacity) {
      return Promise.reject(new Error(`cost ${cost} exceeds the bucket capacity ${this.capacity}`));
    }
    if (this.tryTake(cost)) return Promise.resolve();
    this.waitingCount++;
    const turn = this.queue.then(async () => {
      for (;;) {
        this.refill();
        if (this.tokens >= cost) {
          this.tokens -= cost;
          return;
        }
        await this.wait(Math.max(1, Math.ceil((cost - this.tokens) / this.perMs)));
      }
    });
    this.queue = turn.finally(() => {
      this.waitingCount--;
    });
    return turn;
  }
}

export interface RateRule {
  readonly capacity: number;
  readonly intervalMs: number;
  readonly refill?: number;
}

/** Endpoint key → rule. Keys are `<host-alias> <path>`, e.g. `gamma /markets`; see `limiter.key()`. */
export type RateRules = Readonly<Record<string, RateRule>>;

export interface RateLimiter {
  /** Waits for `cost` tokens on every bucket that applies to `key` (its own rule, then `*` if set). */
  take(key: string, cost?: number): Promise<void>;
  /** The bucket for a key, if a rule names it. */
  bucket(key: string): TokenBucket | undefined;
}

export interface RateLimiterOptions {
  readonly rules: RateRules;
  readonly now?: () => number;
  readonly wait?: (ms: number) => Promise<void>;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const buckets = new Map<string, TokenBucket>();
  for (const [key, rule] of Object.entries(opts.rules)) {
    buckets.set(key, new TokenBucket({ ...rule, now: opts.now, wait: opts.wait }));
  }
  return {
    bucket: (key) => buckets.get(key),
    async take(key, cost = 1) {
      const own = buckets.get(key);
      if (own) await own.take(cost);
      const all = buckets.get('*');
      if (all && all !== own) await all.take(cost);
    },
  };
}

/** Polymarket limits (API notes P12; Cloudflare delays rather than rejects, so we stay under them). */
export const POLYMARKET_RATE_RULES: RateRules = {
  'gamma /markets': { capacity: 300, intervalMs: 10_000 },
  'gamma /events': { capacity: 500, intervalMs: 10_000 },
  'clob /book': { capacity: 1_500, intervalMs: 10_000 },
  'clob /books': { capacity: 500, intervalMs: 10_000 },
  'clob /price': { capacity: 1_500, intervalMs: 10_000 },
  'clob /prices': { capacity: 500, intervalMs: 10_000 },
  'clob /midpoint': { capacity: 1_500, intervalMs: 10_000 },
  'clob /midpoints': { capacity: 500, intervalMs: 10_000 },
};
