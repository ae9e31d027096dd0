/**
 * Time, injected. Agents and strategies read the time and set timers only through a Clock, so the same code runs
 * live on the wall clock and in a backtest on a simulated clock that jumps from event to event.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once at or after epoch-ms `at`. */
  at(at: number, fn: () => void): TimerHandle;
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Runs `fn` every `ms`, first after `ms`. */
  every(ms: number, fn: () => void): TimerHandle;
  readonly kind: 'wall' | 'sim';
}

export function wallClock(): Clock {
  const after = (ms: number, fn: () => void): TimerHandle => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  };
  return {
    kind: 'wall',
    now: () => Date.now(),
    at: (at, fn) => after(at - Date.now(), fn),
    after,
    every(ms, fn) {
      const t = setInterval(fn, ms);
      t.unref?.();
      return { cancel: () => clearInterval(t) };
    },
  };
}

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  every: number; // 0 = one-shot
  cancelled: boolean;
}

/**
 * A clock advanced by replayed events. `advanceTo(t)` fires every timer due at or before t in time order
 * (ties in the order they were set), with now() equal to each timer's due time while it runs.
 */
export class SimClock implements Clock {
  readonly kind = 'sim' as const;
  private current: number;
  private seq = 0;
  private heap: SimTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  at(at: number, fn: () => void): TimerHandle {
    return this.push(Math.max(at, this.current), fn, 0);
  }

  after(ms: number, fn: () => void): TimerHandle {
    return this.push(this.current + Math.max(0, ms), fn, 0);
  }

  every(ms: number, fn: () => void): TimerHandle {
    if (!(ms > 0)) throw new Error(`SimClock.every needs a positive period, got ${ms}`);
    return this.push(this.current + ms, fn, ms);
  }

  /** Moves time forward to `t`, firing due timers in order. Time never goes backwards. */
  advanceTo(t: number): void {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.at > t) break;
      this.pop();
      if (next.cancelled) continue;
      this.current = Math.max(this.current, next.at);
      if (next.every > 0) {
        next.at += next.every;
        next.seq = this.seq++;
        this.insert(next);
      }
      next.fn();
    }
    if (t > this.current) this.current = t;
  }

  /** Due time of the next live timer, if any. */
  nextTimerAt(): number | undefined {
    while (this.heap[0]?.cancelled) this.pop();
    return this.heap[0]?.at;
  }

  pendingTimers(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  private push(at: number, fn: () => void, every: number): TimerHandle {
    const timer: SimTimer = { at, seq: this.seq++, fn, every, cancelled: false };
    this.insert(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  private less(a: SimTimer, b: SimTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private insert(t: SimTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
