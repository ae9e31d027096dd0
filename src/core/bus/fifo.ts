/**
 * A FIFO queue with O(1) shift (a head index instead of Array.prototype.shift) and unshift for retries at the
 * front. Both bus transports queue deliveries in it.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  unshift(v: T): void {
    if (this.head > 0) this.items[--this.head] = v;
    else this.items.unshift(v);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      // compact now and then so a queue that never empties does not grow without bound
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  has(pred: (v: T) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (pred(this.items[i]!)) return true;
    return false;
  }

  drainAll(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}
