/**
 * How markets settle together: which outcomes can win at the same time. The risk guardian uses it to compute the
 * worst case of what the portfolio is paid at settlement — a bundle that holds YES and NO of one market, an
 * identical pair on two venues, or every outcome of a complete negRisk group is paid at least its share count
 * whichever way things resolve, while a lone binary can pay nothing.
 *
 * Markets are nodes; they are joined into components by what ties their outcomes:
 * - a link from the matcher (identical: YES(A) ⇔ YES(B); inverted: YES(A) ⇔ NO(B); implies: YES(A) ⇒ YES(B);
 *   exclusive: not both YES); a `different` link withdraws an earlier one;
 * - a negRisk group (one venue): at most one market of the group resolves YES, and exactly one when no member is a
 *   placeholder ("Other") — the same assumption the scanner makes when it trades a complete set.
 * A resolved market has one possible outcome, its winner. A "world" assigns every market of a component its
 * winning token and satisfies every constraint; the worst case is the minimum over the worlds.
 *
 * Anything uncertain only removes constraints (more worlds, a lower minimum): a link to a market that is not
 * binary is ignored, and a component too large to enumerate is treated as independent markets. Hedges are only
 * as good as the links: a wrong match is a naked position that the guardian believes hedged.
 */
import {
  type Fill,
  instrumentKey,
  type Market,
  type MarketLink,
  type MatchRelation,
  type Resolution,
  type Venue,
} from '../core/messages.ts';
import { ONE } from '../core/money.ts';

/** `venue:marketId` */
export type MarketKey = string;

/**
 * Interned keys: one string per market, so the Maps a loss-budget valuation goes through (components, touched
 * markets, worlds, the graph's nodes) hash it once instead of building, flattening and hashing a fresh
 * `venue:marketId` at every lookup. The instrument-key table (bounded), shared with the matcher and others.
 */
export const marketKey = (venue: Venue, marketId: string): MarketKey => instrumentKey(venue, marketId);

interface Node {
  readonly key: MarketKey;
  tokens: readonly string[];
  yes: string | undefined;
  no: string | undefined;
  group: string | undefined;
  placeholder: boolean;
  winner: string | undefined;
}

interface Tie {
  readonly a: MarketKey;
  readonly b: MarketKey;
  readonly relation: Exclude<MatchRelation, 'different' | 'undetermined'>;
}

/** One component's worlds: `markets[i]` wins `worlds[w][i]` (a token id) in world w. */
export interface Worlds {
  readonly markets: readonly MarketKey[];
  readonly worlds: readonly (readonly string[])[];
  /** market → its position in `markets` (and in each world) */
  readonly index: ReadonlyMap<MarketKey, number>;
}

/** Above this many combinations a component is treated as independent markets (conservative). */
export const MAX_WORLDS = 4096;

interface Unions {
  readonly parent: Map<MarketKey, MarketKey>;
  readonly members: Map<MarketKey, MarketKey[]>;
  readonly groups: Map<string, MarketKey>;
  readonly stamps: Map<MarketKey, number>;
  /** the stamp of a component unchanged since the rebuild */
  readonly builtAt: number;
}

export class SettlementGraph {
  private readonly nodes = new Map<MarketKey, Node>();
  private readonly ties = new Map<string, Tie>();
  /**
   * The unions: market → its component's representative (the smallest key; every node points at it directly),
   * root → its members sorted, negRisk group → one member, root → the version it last changed at. Kept up to date
   * in place as markets and ties are added (a rebuild walks every market and tie: at 100k markets, each listing
   * and each link rebuilt it); dropped, and rebuilt on the next read, only when something can come apart.
   */
  private uf: Unions | undefined;
  /** ties with an end not yet a known market, by that end: joined in place once it arrives */
  private readonly waiting = new Map<MarketKey, Tie[]>();
  private readonly worldCache = new Map<string, Worlds>();
  /**
   * worlds() of a component's own members array (what valueComponent asks for most, several times per decision),
   * found by the array itself: no cache key joined from every market's key. Replaced whenever the graph changes.
   */
  private memberWorlds = new WeakMap<readonly MarketKey[], Worlds>();
  /** Changes whenever a market, link or resolution changes what can win together. */
  version = 0;

  onMarket(m: Market): void {
    const key = marketKey(m.venue, m.marketId);
    const yes =
      m.outcomes.find((o) => o.side === 'yes')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[0]!.tokenId : undefined);
    const no =
      m.outcomes.find((o) => o.side === 'no')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[1]!.tokenId : undefined);
    const prev = this.nodes.get(key);
    const node: Node = {
      key: prev?.key ?? key,
      tokens: m.outcomes.map((o) => o.tokenId),
      yes,
      no,
      group: m.negRiskGroup ? `${m.venue}|${m.negRiskGroup}` : undefined,
      placeholder: m.placeholder === true,
      winner: m.status === 'resolved' && m.winner ? m.winner : prev?.winner,
    };
    const sameShape =
      prev !== undefined &&
      prev.group === node.group &&
      prev.placeholder === node.placeholder &&
      prev.yes === node.yes &&
      prev.no === node.no &&
      prev.tokens.length === node.tokens.length &&
      prev.tokens.every((t, i) => t === node.tokens[i]);
    if (sameShape && prev.winner === node.winner) return;
    this.nodes.set(key, node);
    if (sameShape) this.winnerChanged(node.key);
    else if (prev !== undefined)
      this.changed(true); // a new shape can leave a group or stop a tie counting
    else {
      this.changed(false);
      this.added(node);
    }
  }

  onResolution(r: Resolution): void {
    const key = marketKey(r.venue, r.marketId);
    const node = this.nodes.get(key);
    if (!node || node.winner === r.winner) return;
    node.winner = r.winner;
    this.winnerChanged(node.key);
  }

  /**
   * A settlement fill says how its market resolved (a token paid $1 won; one paid 0 lost, so in a binary the
   * other token won), whether or not the Resolution has arrived yet.
   */
  onSettlementFill(f: Pick<Fill, 'venue' | 'marketId' | 'tokenId' | 'price' | 'kind'>): void {
    if (f.kind !== 'settlement') return;
    const node = this.nodes.get(marketKey(f.venue, f.marketId));
    if (!node || node.winner !== undefined) return;
    const winner =
      f.price === ONE
        ? f.tokenId
        : f.price === 0 && node.tokens.length === 2
          ? node.tokens.find((t) => t !== f.tokenId)
          : undefined;
    if (winner === undefined) return;
    node.winner = winner;
    this.winnerChanged(node.key);
  }

  onLink(l: MarketLink): void {
    // the nodes' key strings when the markets are known: ~0.5M ties at 100k markets, each held two fresh strings
    const a0 = marketKey(l.a.venue, l.a.marketId);
    const b0 = marketKey(l.b.venue, l.b.marketId);
    const a = this.nodes.get(a0)?.key ?? a0;
    const b = this.nodes.get(b0)?.key ?? b0;
    const k = pairKey(a, b);
    const prev = this.ties.get(k);
    // an undetermined pair ties nothing: only a decided relation may count as a hedge
    if (l.relation === 'different' || l.relation === 'undetermined') {
      if (prev) {
        this.ties.delete(k);
        this.changed(true);
      }
      return;
    }
    if (prev && prev.a === a && prev.b === b && prev.relation === l.relation) return;
    const tie: Tie = { a, b, relation: l.relation };
    this.ties.set(k, tie);
    this.changed(prev !== undefined && (prev.a !== a || prev.b !== b));
    for (const end of [a, b]) {
      if (this.nodes.has(end)) continue;
      const list = this.waiting.get(end);
      if (list) list.push(tie);
      else this.waiting.set(end, [tie]);
    }
    this.tied(tie);
  }

  hasMarket(key: MarketKey): boolean {
    return this.nodes.has(key);
  }

  /** The component (its representative) a market belongs to; a market never seen is a component of its own. */
  componentOf(key: MarketKey): MarketKey {
    return this.unions().parent.get(key) ?? key;
  }

  /** Every known market of a component, sorted (just the key for a market never seen). */
  membersOf(root: MarketKey): readonly MarketKey[] {
    return this.unions().members.get(root) ?? [root];
  }

  /**
   * A number that changes whenever anything about the component rooted at `root` changes (its members, their
   * outcomes and winners, the ties among them): what is computed from a component alone can be kept while it
   * stands. Ask it of a current root (componentOf): a market joined into another component stops being one.
   */
  stampOf(root: MarketKey): number {
    const u = this.unions();
    return u.stamps.get(root) ?? u.builtAt;
  }

  /**
   * The possible settlements of a set of markets (a whole component). Unknown markets can settle any way their
   * held tokens allow: the caller lists those tokens in `extraTokens`, so "some other token wins" is a world too.
   */
  worlds(markets: readonly MarketKey[], extraTokens?: ReadonlyMap<MarketKey, readonly string[]>): Worlds {
    if (extraTokens === undefined) {
      const known = this.memberWorlds.get(markets);
      if (known) return known;
    }
    const cacheKey = `${this.version}#${markets.join(',')}#${
      extraTokens ? [...extraTokens].map(([k, v]) => `${k}=${v.join('+')}`).join(';') : ''
    }`;
    const hit = this.worldCache.get(cacheKey);
    if (hit) {
      if (extraTokens === undefined) this.memberWorlds.set(markets, hit);
      return hit;
    }
    const domains = markets.map((k) => this.domain(k, extraTokens?.get(k)));
    let size = 1;
    for (const d of domains) size *= d.length;
    const index = new Map(markets.map((k, i) => [k, i]));
    const out: Worlds =
      size > MAX_WORLDS
        ? { markets, worlds: [], index } // caller falls back to independent markets
        : { markets, worlds: this.enumerate(markets, domains), index };
    if (this.worldCache.size > 10_000) this.worldCache.clear();
    this.worldCache.set(cacheKey, out);
    if (extraTokens === undefined) this.memberWorlds.set(markets, out);
    return out;
  }

  // ------------------------------------------------------------------ internals

  /** Something changed what can win together; `apart`: it may have split a component (the unions are rebuilt). */
  private changed(apart: boolean): void {
    this.version++;
    this.worldCache.clear();
    if (!apart) return;
    this.uf = undefined;
    this.memberWorlds = new WeakMap();
  }

  /** A new market: its own component, joined to its negRisk group and to the ties that waited for it. */
  private added(node: Node): void {
    const u = this.uf;
    const ties = this.waiting.get(node.key);
    this.waiting.delete(node.key);
    if (!u) return;
    u.parent.set(node.key, node.key);
    u.members.set(node.key, [node.key]);
    u.stamps.set(node.key, this.version);
    if (node.group) {
      const first = u.groups.get(node.group);
      if (first === undefined) u.groups.set(node.group, node.key);
      else this.join(u, first, node.key);
    }
    for (const t of ties ?? []) if (this.ties.get(pairKey(t.a, t.b)) === t) this.tied(t);
  }

  /** A tie added or its relation changed: it joins two binary markets, and their component's worlds change. */
  private tied(t: Tie): void {
    const u = this.uf;
    if (!u || !this.binary(t.a) || !this.binary(t.b)) return;
    const r = this.join(u, t.a, t.b);
    // joined or not, the tie constrains the worlds: a fresh members array drops those cached under the old one
    u.members.set(r, [...u.members.get(r)!]);
    u.stamps.set(r, this.version);
  }

  /** Joins the components of a and b (both known markets) in place; returns the root. */
  private join(u: Unions, a: MarketKey, b: MarketKey): MarketKey {
    const ra = u.parent.get(a)!;
    const rb = u.parent.get(b)!;
    if (ra === rb) return ra;
    // the smaller key is the root, as in a rebuild: the representative does not depend on the order of events
    const [root, other] = ra < rb ? [ra, rb] : [rb, ra];
    const moved = u.members.get(other)!;
    for (const k of moved) u.parent.set(k, root);
    u.members.set(root, mergeSorted(u.members.get(root)!, moved));
    u.members.delete(other);
    u.stamps.delete(other);
    u.stamps.set(root, this.version);
    return root;
  }

  /**
   * A market's winner changed (a resolution, a settlement fill), nothing else: what is joined to what stays (the
   * unions read groups, ties and outcomes, never winners), and so do the worlds of every other component — only
   * that market's component is enumerated again. Each resolution otherwise re-enumerated every held component.
   */
  private winnerChanged(key: MarketKey): void {
    this.version++;
    this.worldCache.clear();
    const u = this.uf;
    const root = u?.parent.get(key);
    const members = root === undefined ? undefined : u!.members.get(root);
    if (members) {
      this.memberWorlds.delete(members);
      u!.stamps.set(root!, this.version);
    } else this.memberWorlds = new WeakMap();
  }

  /**
   * Possible winners of a market: its winner once resolved, else each of its tokens; for a market never seen,
   * each token held there or any other (OTHER).
   */
  domain(key: MarketKey, held: readonly string[] | undefined): string[] {
    const node = this.nodes.get(key);
    if (node?.winner !== undefined) return [node.winner];
    if (node) return [...node.tokens];
    // a market we have not seen: each held token, or something else
    return [...(held ?? []), OTHER];
  }

  private unions(): Unions {
    if (this.uf) return this.uf;
    const parent = new Map<MarketKey, MarketKey>();
    const find = (k: MarketKey): MarketKey => {
      let r = k;
      if (!parent.has(r)) parent.set(r, r);
      while (parent.get(r) !== r) r = parent.get(r)!;
      // path compression
      let c = k;
      while (parent.get(c) !== r) {
        const n = parent.get(c)!;
        parent.set(c, r);
        c = n;
      }
      return r;
    };
    const join = (a: MarketKey, b: MarketKey): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra === rb) return;
      // the smaller key is the root, so the representative does not depend on the order of events
      if (ra < rb) parent.set(rb, ra);
      else parent.set(ra, rb);
    };
    const groups = new Map<string, MarketKey>();
    for (const n of this.nodes.values()) {
      find(n.key);
      if (!n.group) continue;
      const first = groups.get(n.group);
      if (first === undefined) groups.set(n.group, n.key);
      else join(first, n.key);
    }
    for (const t of this.ties.values()) {
      if (this.binary(t.a) && this.binary(t.b)) join(t.a, t.b);
    }
    // settle every node onto its root
    const members = new Map<MarketKey, MarketKey[]>();
    for (const k of [...parent.keys()]) {
      const r = find(k);
      let list = members.get(r);
      if (!list) {
        list = [];
        members.set(r, list);
      }
      list.push(k);
    }
    for (const list of members.values()) list.sort();
    this.uf = { parent, members, groups, stamps: new Map(), builtAt: this.version };
    return this.uf;
  }

  /** The ties between markets of a set: looked up pair by pair when that is fewer lookups than every tie. */
  private tiesAmong(markets: readonly MarketKey[]): Iterable<Tie> {
    if ((markets.length * (markets.length - 1)) / 2 >= this.ties.size) return this.ties.values();
    const out: Tie[] = [];
    for (let x = 0; x < markets.length; x++)
      for (let y = x + 1; y < markets.length; y++) {
        const t = this.ties.get(pairKey(markets[x]!, markets[y]!));
        if (t) out.push(t);
      }
    return out;
  }

  private binary(key: MarketKey): boolean {
    const n = this.nodes.get(key);
    return n !== undefined && n.yes !== undefined && n.no !== undefined && n.tokens.length === 2;
  }

  private enumerate(markets: readonly MarketKey[], domains: readonly string[][]): string[][] {
    const index = new Map(markets.map((k, i) => [k, i]));
    const nodes = markets.map((k) => this.nodes.get(k));
    // pairwise constraints between markets of this set, checked once both are assigned
    const checks: { i: number; j: number; ok: (wi: string, wj: string) => boolean }[] = [];
    for (const t of this.tiesAmong(markets)) {
      const i = index.get(t.a);
      const j = index.get(t.b);
      if (i === undefined || j === undefined || !this.binary(t.a) || !this.binary(t.b)) continue;
      const yesA = nodes[i]!.yes!;
      const yesB = nodes[j]!.yes!;
      const rel = t.relation;
      checks.push({
        i: Math.min(i, j),
        j: Math.max(i, j),
        ok:
          i < j
            ? (wi, wj) => holds(rel, wi === yesA, wj === yesB)
            : (wi, wj) => holds(rel, wj === yesA, wi === yesB),
      });
    }
    // negRisk groups: at most one YES; exactly one when the group has no placeholder
    const groups = new Map<string, { members: number[]; complete: boolean }>();
    nodes.forEach((n, i) => {
      if (!n?.group || n.yes === undefined) return;
      let g = groups.get(n.group);
      if (!g) {
        g = { members: [], complete: true };
        groups.set(n.group, g);
      }
      g.members.push(i);
      if (n.placeholder) g.complete = false;
    });
    // a group is complete only if every member we know of is in this set (they are: groups join components)
    for (const [name, g] of groups) {
      // every market of the group is in its first member's component: no walk over every market
      for (const k of this.membersOf(this.componentOf(markets[g.members[0]!]!))) {
        const n = this.nodes.get(k)!;
        if (n.group === name && (!index.has(n.key) || n.placeholder)) g.complete = false;
      }
    }
    const memberOf = new Map<number, { members: number[]; complete: boolean }>();
    for (const g of groups.values()) for (const i of g.members) memberOf.set(i, g);
    const out: string[][] = [];
    const w: string[] = new Array(markets.length);
    const yesCount = new Map<{ members: number[]; complete: boolean }, number>();
    const step = (i: number): void => {
      if (i === markets.length) {
        for (const g of groups.values()) if (g.complete && (yesCount.get(g) ?? 0) !== 1) return;
        out.push([...w]);
        return;
      }
      for (const token of domains[i]!) {
        w[i] = token;
        const g = memberOf.get(i);
        const isYes = g !== undefined && token === nodes[i]!.yes;
        if (g && isYes) {
          const c = (yesCount.get(g) ?? 0) + 1;
          if (c > 1) continue;
          yesCount.set(g, c);
        }
        let ok = true;
        for (const c of checks) if (c.j === i && !c.ok(w[c.i]!, token)) ok = false;
        if (ok) step(i + 1);
        if (g && isYes) yesCount.set(g, yesCount.get(g)! - 1);
      }
    };
    step(0);
    return out;
  }
}

/** The ties map's key of a pair of markets. */
const pairKey = (a: MarketKey, b: MarketKey): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Two sorted arrays merged into a new sorted one. */
function mergeSorted(x: readonly MarketKey[], y: readonly MarketKey[]): MarketKey[] {
  const out: MarketKey[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) out.push(x[i]! < y[j]! ? x[i++]! : y[j++]!);
  while (i < x.length) out.push(x[i++]!);
  while (j < y.length) out.push(y[j++]!);
  return out;
}

/** Stands for "a token we hold none of wins" in a market we know nothing about. */
export const OTHER = '\u0000other';

function holds(
  rel: Exclude<MatchRelation, 'different' | 'undetermined'>,
  yesA: boolean,
  yesB: boolean,
): boolean {
  switch (rel) {
    case 'identical':
      return yesA === yesB;
    case 'inverted':
      return yesA !== yesB;
    case 'implies':
      return !yesA || yesB;
    case 'exclusive':
      return !(yesA && yesB);
  }
}
