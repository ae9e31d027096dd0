/**
 * The scanner's hot state: what every book update reads before it knows whether an opportunity is possible, in
 * flat arrays indexed by the book's token slot (src/core/token-slots.ts), so that an update that cannot cross any
 * edge reads one record and stops. With 100,000 markets, per-market objects reached through a map (or through a
 * slot → market table) were a chain of two or three cache and TLB misses per update over a large heap, and made
 * the cost per update grow with the market count. The detectors in scanner.ts still decide on the full state:
 * these records only tell an update that cannot cross an edge to stop early.
 *
 * Per token slot, a record of RECORD int32s: the token's binding (its market's index, venue and side, or −1), its
 * cached best ask and bid (NO_ASK / NO_BID when its book is missing, stale or empty), the same for the other token
 * of its market (its sibling: YES ↔ NO, copied in whenever it changes, so that YES + NO is checked in one record),
 * the sibling's slot, a word of flags, link relation and negRisk group, the YES and NO asks of the market's first
 * linked market (copied in whenever they change, NO_ASK while that market is closed, so that a link is checked in
 * one record too), and the markets whose first link is this market (their slots: where its asks are copied to).
 * The market-wide fields are the same in both tokens' records. Beside it, per slot, the token id (to check a
 * book's slot hint) and the book. Per negRisk group: the sum of its members' YES asks, its size and how many
 * members cannot be priced, so that a group is checked in one record too.
 */
import type { OrderBook } from '../core/messages.ts';
import { MICRO } from '../core/money.ts';

/**
 * A missing, stale or empty side in the cached tops: far enough out that any sum of asks with it is ≥ 1 and any
 * sum of bids with it ≤ 1, small enough to stay an int32 (a group's sum is a float64: exact far beyond that).
 */
export const NO_ASK = 1 << 29;
export const NO_BID = -(1 << 29);

/** Which side of its market a token is (the low bits of its binding). */
export const SIDE_YES = 0;
export const SIDE_NO = 1;
export const SIDE_OTHER = 2;
export const SIDE_MASK = 3;

/** Market flags (the low bits of the meta word). */
export const F_OPEN = 1;
/** has an oracle link: oracle_lag runs on every update of its books */
export const F_ORACLE = 2;
/** has more links than the first (only the first is in the record) */
export const F_MORE_LINKS = 4;

/** A link's relation in the meta word (REL_* × 2, plus 1 when the market is the link's `a`). */
export const REL_IDENTICAL = 0;
export const REL_INVERTED = 1;
export const REL_IMPLIES = 2;
export const REL_EXCLUSIVE = 3;

/** The meta word: flags (3 bits), link (3 bits), negRisk group + 1 (0: none). */
const LINK_SHIFT = 3;
const GROUP_SHIFT = 6;

export function meta(flags: number, rel: number, isA: boolean, group: number): number {
  return flags | ((rel * 2 + (isA ? 1 : 0)) << LINK_SHIFT) | ((group + 1) << GROUP_SHIFT);
}

const groupOf = (m: number): number => (m >>> GROUP_SHIFT) - 1;

// the fields of a slot's record: 16 int32s = 64 bytes, a cache line (the next power of two above the 15 used)
const RECORD = 16;
const BIND = 0;
const ASK = 1;
const BID = 2;
const SIB_ASK = 3;
const SIB_BID = 4;
const SIB = 5;
const META = 6;
/** the first linked market's YES and NO asks */
const L_YES = 7;
const L_NO = 8;
/** how many markets have this one as their first link; the first one's YES and NO slots (the rest: FlatBooks.deps) */
const DEPS = 9;
const DEP_YES = 10;
const DEP_NO = 11;
/** 1 when the slot's book is there and fresh (oracle_lag prices only such books), and the same for its sibling */
const FRESH = 12;
const SIB_FRESH = 13;
/** the market's oracle record (FlatBooks.setMeta), −1 for none */
const ORACLE = 14;

// the fields of a group's record (float64s): sum of YES asks, members, members that cannot be priced
const GROUP_RECORD = 4;
const G_SUM = 0;
const G_SIZE = 1;
const G_BAD = 2;

/** MICRO as a module constant: read in the per-update checks without going through the import binding. */
const ONE = MICRO;

export class FlatBooks {
  /** per slot: RECORD int32s (see the header) */
  private rec = new Int32Array(0);
  /** per slot s: the token id at 2s, its book at 2s + 1 (the same cache line: read and written together) */
  private readonly obj: (string | OrderBook | undefined)[] = [];
  /** per group: GROUP_RECORD float64s */
  private grp = new Float64Array(GROUP_RECORD * 64);
  private groups = 0;
  /**
   * The YES and NO slots (in pairs) of every market whose first link is the market of a slot, for the slots whose
   * DEPS field is over 1 (rare: most markets are the first link of one market at most, kept in the record itself).
   */
  private readonly deps = new Map<number, number[]>();

  /** A new negRisk group, empty. */
  addGroup(): number {
    const g = this.groups++;
    if ((g + 1) * GROUP_RECORD > this.grp.length) {
      const bigger = new Float64Array(this.grp.length * 2);
      bigger.set(this.grp);
      this.grp = bigger;
    }
    return g;
  }

  // ---------------------------------------------------------------- per slot

  /** The binding of a slot (see the header), or −1. */
  binding(s: number): number {
    return s >= 0 && s * RECORD < this.rec.length ? this.rec[s * RECORD + BIND]! : -1;
  }

  /**
   * The binding of slot `s` when its token is `tokenId` (a book's slot hint checked), else −1. Both loads are
   * issued before either is used, so that their cache misses overlap.
   */
  bindingIf(s: number, tokenId: string): number {
    if (s < 0 || s * RECORD >= this.rec.length) return -1;
    const token = this.obj[2 * s];
    const b = this.rec[s * RECORD + BIND]!;
    return token === tokenId ? b : -1;
  }

  tokenAt(s: number): string | undefined {
    return s >= 0 && 2 * s < this.obj.length ? (this.obj[2 * s] as string | undefined) : undefined;
  }

  /** The book of a slot (−1: none). */
  book(s: number): OrderBook | undefined {
    return s < 0 ? undefined : (this.obj[2 * s + 1] as OrderBook | undefined);
  }

  ask(s: number): number {
    return s < 0 ? NO_ASK : this.rec[s * RECORD + ASK]!;
  }

  bid(s: number): number {
    return s < 0 ? NO_BID : this.rec[s * RECORD + BID]!;
  }

  /**
   * Binds a slot to its token and binding. A new binding starts without a book; the caller then pairs the
   * market's slots and writes their meta.
   */
  bind(s: number, tokenId: string, b: number): void {
    this.grow(s);
    const r = s * RECORD;
    this.obj[2 * s] = tokenId;
    if (this.rec[r + BIND] === b) return;
    this.setBook(s, undefined, NO_ASK, NO_BID, false);
    this.leaveGroup(s);
    this.rec[r + BIND] = b;
    this.rec[r + SIB] = -1;
    this.rec[r + SIB_ASK] = NO_ASK;
    this.rec[r + SIB_BID] = NO_BID;
    this.rec[r + META] = 0;
    this.rec[r + L_YES] = NO_ASK;
    this.rec[r + L_NO] = NO_ASK;
    this.rec[r + DEPS] = 0;
    this.rec[r + DEP_YES] = -1;
    this.rec[r + DEP_NO] = -1;
    this.rec[r + SIB_FRESH] = 0;
    this.rec[r + ORACLE] = -1;
    this.deps.delete(s);
  }

  /**
   * Unbinds a slot whose market is gone (resolved): no token, no book, no group, like a slot never bound, so that
   * the token id and the last book are not held for the life of the process.
   */
  unbind(s: number): void {
    if (this.binding(s) < 0) return;
    this.setBook(s, undefined, NO_ASK, NO_BID, false);
    this.leaveGroup(s);
    this.setLinks(s, -1, NO_ASK, NO_ASK, []);
    const r = s * RECORD;
    this.rec[r + BIND] = -1;
    this.rec[r + SIB] = -1;
    this.rec[r + SIB_ASK] = NO_ASK;
    this.rec[r + SIB_BID] = NO_BID;
    this.rec[r + SIB_FRESH] = 0;
    this.rec[r + META] = 0;
    this.rec[r + ORACLE] = -1;
    this.obj[2 * s] = undefined;
  }

  /** A market's YES and NO slots (−1 for none): each record carries the other's tops. */
  pair(yes: number, no: number): void {
    if (yes >= 0) this.copySibling(yes, no);
    if (no >= 0) this.copySibling(no, yes);
  }

  private copySibling(s: number, sib: number): void {
    const r = s * RECORD;
    this.rec[r + SIB] = sib;
    this.rec[r + SIB_ASK] = this.ask(sib);
    this.rec[r + SIB_BID] = this.bid(sib);
    this.rec[r + SIB_FRESH] = sib >= 0 ? this.rec[sib * RECORD + FRESH]! : 0;
  }

  /** The market-wide part of a slot's record: its meta word (see meta()) and its oracle record (−1: none). */
  setMeta(s: number, m: number, oracle: number): void {
    const r = s * RECORD;
    this.leaveGroup(s);
    this.rec[r + META] = m;
    this.rec[r + ORACLE] = oracle;
    this.enterGroup(s);
  }

  /**
   * The link part of a market's records (its YES and NO slots, −1 for none): its first linked market's YES and NO
   * asks (NO_ASK when there is none or it is closed), and the YES and NO slots, in pairs, of the markets whose
   * first link it is (where its own asks are copied whenever they change).
   */
  setLinks(yes: number, no: number, linkedYes: number, linkedNo: number, deps: readonly number[]): void {
    for (const s of [yes, no]) {
      if (s < 0) continue;
      const r = s * RECORD;
      this.rec[r + L_YES] = linkedYes;
      this.rec[r + L_NO] = linkedNo;
      this.rec[r + DEPS] = deps.length / 2;
      this.rec[r + DEP_YES] = deps.length > 0 ? deps[0]! : -1;
      this.rec[r + DEP_NO] = deps.length > 0 ? deps[1]! : -1;
      if (deps.length > 2) this.deps.set(s, [...deps]);
      else this.deps.delete(s);
    }
  }

  /**
   * Puts a book (or none) in a slot with its tops and whether it is fresh, copied to its sibling (and counted in
   * its group's sum, and copied to the markets whose first link is its market).
   */
  setBook(s: number, book: OrderBook | undefined, ask: number, bid: number, fresh: boolean): void {
    this.obj[2 * s + 1] = book;
    const rec = this.rec;
    const r = s * RECORD;
    const old = rec[r + ASK]!;
    const g = this.sumGroup(r);
    // the group's sum follows its members' YES asks (an exact integer in a float64)
    if (g >= 0) this.addToSum(g, ask - old);
    const f = fresh ? 1 : 0;
    rec[r + ASK] = ask;
    rec[r + BID] = bid;
    rec[r + FRESH] = f;
    const sib = rec[r + SIB]!;
    if (sib >= 0) {
      rec[sib * RECORD + SIB_ASK] = ask;
      rec[sib * RECORD + SIB_BID] = bid;
      rec[sib * RECORD + SIB_FRESH] = f;
    }
    // the copies already hold an unchanged ask (most updates change depth, not the top): no store to their lines
    const n = rec[r + DEPS]!;
    if (n > 0 && ask !== old) this.copyToLinked(s, r, n, ask);
  }

  /** Copies a slot's new ask to the records of the markets whose first link is its market (see setLinks). */
  private copyToLinked(s: number, r: number, n: number, ask: number): void {
    const rec = this.rec;
    const side = rec[r + BIND]! & SIDE_MASK;
    if (side > SIDE_NO) return;
    const field = side === SIDE_YES ? L_YES : L_NO;
    const v = (rec[r + META]! & F_OPEN) !== 0 ? ask : NO_ASK;
    if (n === 1) {
      const y = rec[r + DEP_YES]!;
      const no = rec[r + DEP_NO]!;
      if (y >= 0) rec[y * RECORD + field] = v;
      if (no >= 0) rec[no * RECORD + field] = v;
      return;
    }
    for (const d of this.deps.get(s)!) if (d >= 0) rec[d * RECORD + field] = v;
  }

  /** The group whose sum counts this slot's ask: a YES token's market's group, else −1. */
  private sumGroup(r: number): number {
    return (this.rec[r + BIND]! & SIDE_MASK) === SIDE_YES ? groupOf(this.rec[r + META]!) : -1;
  }

  private leaveGroup(s: number): void {
    const g = this.sumGroup(s * RECORD);
    if (g >= 0) this.addToSum(g, -this.rec[s * RECORD + ASK]!);
  }

  private enterGroup(s: number): void {
    const g = this.sumGroup(s * RECORD);
    if (g >= 0) this.addToSum(g, this.rec[s * RECORD + ASK]!);
  }

  private addToSum(g: number, delta: number): void {
    const q = g * GROUP_RECORD + G_SUM;
    this.grp[q] = this.grp[q]! + delta;
  }

  /** A group's size and how many members cannot be priced (placeholder, closed, no YES token), recounted. */
  setGroupCounts(g: number, size: number, bad: number): void {
    this.grp[g * GROUP_RECORD + G_SIZE] = size;
    this.grp[g * GROUP_RECORD + G_BAD] = bad;
  }

  /** The sum of a group's members' YES asks. */
  groupSum(g: number): number {
    return this.grp[g * GROUP_RECORD + G_SUM]!;
  }

  private grow(s: number): void {
    if ((s + 1) * RECORD <= this.rec.length) return;
    const bigger = new Int32Array(Math.max(RECORD * 1024, 2 * (s + 1) * RECORD));
    bigger.set(this.rec);
    // fresh records are unbound, without a sibling (a zero there named slot 0: binding a fresh slot, which empties
    // its book first, wrote NO_ASK over slot 0's copy of its sibling's ask)
    for (let r = this.rec.length; r < bigger.length; r += RECORD) {
      bigger[r + BIND] = -1;
      bigger[r + SIB] = -1;
    }
    this.rec = bigger;
    // filled densely: a holey array far past its length would turn into a dictionary
    while (this.obj.length < (2 * bigger.length) / RECORD) this.obj.push(undefined);
  }

  // ---------------------------------------------------------------- the checks of an update
  // Each reads the record of the updated slot (and a group's record) and is a necessary condition of
  // its detector in scanner.ts, which decides on the full state. They are for YES and NO slots only.

  meta(s: number): number {
    return this.rec[s * RECORD + META]!;
  }

  /** The market's oracle record (−1: none). */
  oracle(s: number): number {
    return this.rec[s * RECORD + ORACLE]!;
  }

  /** The slot's book is there and fresh. */
  fresh(s: number): boolean {
    return this.rec[s * RECORD + FRESH] === 1;
  }

  /** The sibling's book is there and fresh. */
  sibFresh(s: number): boolean {
    return this.rec[s * RECORD + SIB_FRESH] === 1;
  }

  /** The sibling's cached best ask. */
  sibAsk(s: number): number {
    return this.rec[s * RECORD + SIB_ASK]!;
  }

  /** Buying YES + NO costs under 1 at the top, or selling both pays over 1, on an open market. */
  mayRebalance(s: number): boolean {
    const rec = this.rec;
    const r = s * RECORD;
    return (
      (rec[r + META]! & F_OPEN) !== 0 &&
      (rec[r + ASK]! + rec[r + SIB_ASK]! < ONE || rec[r + BID]! + rec[r + SIB_BID]! > ONE)
    );
  }

  /** The market's group (two members or more, all priceable) buys all its YES under 1 at the top. */
  mayGroup(s: number): boolean {
    const g = groupOf(this.rec[s * RECORD + META]!);
    if (g < 0) return false;
    const q = g * GROUP_RECORD;
    return this.grp[q + G_SIZE]! >= 2 && this.grp[q + G_BAD] === 0 && this.grp[q + G_SUM]! < ONE;
  }

  /** The market's first link buys one of its pairs under 1 at the top, both markets open. */
  linkMayCross(s: number): boolean {
    const rec = this.rec;
    const r = s * RECORD;
    const m = rec[r + META]!;
    // the linked market's asks are NO_ASK when it is closed (or there is none): no pair with them crosses
    if ((m & F_OPEN) === 0) return false;
    // this market's YES and NO asks, and the linked market's, all from this record
    const yes = (rec[r + BIND]! & SIDE_MASK) === SIDE_YES;
    const ownYes = yes ? rec[r + ASK]! : rec[r + SIB_ASK]!;
    const ownNo = yes ? rec[r + SIB_ASK]! : rec[r + ASK]!;
    const otherYes = rec[r + L_YES]!;
    const otherNo = rec[r + L_NO]!;
    const link = (m >>> LINK_SHIFT) & 7;
    const isA = (link & 1) !== 0;
    const aYes = isA ? ownYes : otherYes;
    const aNo = isA ? ownNo : otherNo;
    const bYes = isA ? otherYes : ownYes;
    const bNo = isA ? otherNo : ownNo;
    switch (link >> 1) {
      case REL_IDENTICAL:
        return aYes + bNo < ONE || aNo + bYes < ONE;
      case REL_INVERTED:
        return aYes + bYes < ONE || aNo + bNo < ONE;
      case REL_IMPLIES:
        return aNo + bYes < ONE;
      default:
        return aNo + bNo < ONE;
    }
  }
}

/** A link relation's code (REL_*), or −1 for a relation that links nothing. */
export function relCode(relation: string): number {
  switch (relation) {
    case 'identical':
      return REL_IDENTICAL;
    case 'inverted':
      return REL_INVERTED;
    case 'implies':
      return REL_IMPLIES;
    case 'exclusive':
      return REL_EXCLUSIVE;
    default:
      return -1;
  }
}
