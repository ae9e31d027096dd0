/**
 * The rules stage: compares the settlement facts of two markets (facts.ts) and either decides, or says it cannot.
 *
 * It never calls two markets identical (or inverted, or related) when a fact differs or could not be read on
 * either side: a difference is a `different` verdict naming it; a fact it could not read makes the verdict
 * `undetermined` (with what was not read), which the matcher hands to the LLM, or queues for review when it runs
 * rules-only. `different` needs a fact read on both sides that differs: the settlement source, window, instant or
 * strike of a crypto market; the statistic, country, units or period of an economic release; or, for any market,
 * names that put the two in different events (two central banks, two congressional districts, two offices, two
 * countries' elections). Names that pick an outcome within one event (a party, a person, a bucket) never make a
 * pair `different`: two candidates for one office are exclusive, not unrelated.
 *
 * Crypto relations it can prove, all with the same asset, settlement instant, source and window:
 * - same kind, strike and comparison → identical;
 * - above K vs below K with complementary comparisons (> vs <=, >= vs <) → inverted (YES on one is NO on the
 *   other), confidence 0.95; > vs < leaves a settlement exactly at K to neither side: still inverted, confidence
 *   0.9, with that tie named in the reasons (identical is stricter: > vs >= at one strike is `different`);
 * - above K1 vs above K2 with K1 > K2 → the first implies the second (below: the lower strike implies);
 * - disjoint ranges → exclusive; a range inside an above/below region → implies.
 */
import type { MatchRelation } from '../core/messages.ts';
import type { Comparison, CryptoSpec, EconSpec, MarketFacts } from './facts.ts';
import { isoUtc } from './time.ts';

export interface RulesVerdict {
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly reasons: readonly string[];
  /** false: the rules could not settle it (relation `undetermined`: the LLM, or a person, decides) */
  readonly decided: boolean;
  /** implies: true when the second market implies the first (swap a and b for the link) */
  readonly swap?: boolean;
}

/** First reason of every undetermined rules verdict. */
export const UNDETERMINED = 'undetermined: the rules cannot settle this pair';

const undetermined = (reasons: string[]): RulesVerdict => ({
  relation: 'undetermined',
  confidence: 0,
  reasons: [UNDETERMINED, ...reasons],
  decided: false,
});
const differ = (reasons: string[], confidence = 0.99): RulesVerdict => ({
  relation: 'different',
  confidence,
  reasons,
  decided: true,
});

// One formatter for every reason: toLocaleString builds a new one per call, which made strike texts the matcher's
// largest cost (reasons are written for every pair compared).
const USD = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const usd = (e8: number | undefined): string => (e8 === undefined ? '?' : `$${USD.format(e8 / 1e8)}`);

function complementary(x: Comparison | undefined, y: Comparison | undefined): boolean {
  return (
    (x === '>' && y === '<=') ||
    (x === '<=' && y === '>') ||
    (x === '>=' && y === '<') ||
    (x === '<' && y === '>=')
  );
}

function compareCrypto(fa: MarketFacts, fb: MarketFacts): RulesVerdict {
  const a = fa.crypto as CryptoSpec;
  const b = fb.crypto as CryptoSpec;
  if (a.asset !== b.asset) return differ([`different assets: ${a.asset} vs ${b.asset}`]);
  const unread = [
    ...fa.unread.map((u) => `A: ${u} not stated`),
    ...fb.unread.map((u) => `B: ${u} not stated`),
  ];
  // facts that are read on both sides and differ decide at once, even if something else is unread
  if (a.expiry !== undefined && b.expiry !== undefined && a.expiry !== b.expiry) {
    return differ([`settlement time differs: ${isoUtc(a.expiry)} vs ${isoUtc(b.expiry)}`]);
  }
  if (fa.source && fb.source && fa.source !== fb.source) {
    return differ([`settlement source differs: ${fa.source} vs ${fb.source}`]);
  }
  if (fa.window && fb.window && fa.window !== fb.window) {
    return differ([`averaging window differs: ${fa.window} vs ${fb.window}`]);
  }
  if (a.kind === 'up_down' || b.kind === 'up_down') {
    if (a.kind !== b.kind) return differ([`different market types: ${a.kind} vs ${b.kind}`]);
    if (a.start !== undefined && b.start !== undefined && a.start !== b.start) {
      return differ([`window start differs: ${isoUtc(a.start)} vs ${isoUtc(b.start)}`]);
    }
  }
  if (unread.length > 0) return undetermined([...unread]);
  // the end time alone is not a settlement fact (venues pad close times): require it read from ticker or text
  if (a.expiryFrom === 'end_time' || b.expiryFrom === 'end_time') {
    return undetermined(['settlement time only from the venue end time']);
  }
  const same = `${a.asset}, ${isoUtc(a.expiry!)}, ${fa.source}${fa.window ? ` ${fa.window}` : ''}`;
  if (a.kind === 'up_down') {
    if (a.start === undefined || b.start === undefined) return undetermined(['window start not stated']);
    if (a.op !== b.op) return undetermined(['tie rule (up on equal) not stated on both']);
    return {
      relation: 'identical',
      confidence: 0.97,
      reasons: [`same up/down window: ${same}`],
      decided: true,
    };
  }
  if (a.kind === 'range' && b.kind === 'range') {
    if (a.strike === b.strike && a.upper === b.upper) {
      return {
        relation: 'identical',
        confidence: 0.95,
        reasons: [`same range ${usd(a.strike)}–${usd(a.upper)}: ${same}`],
        decided: true,
      };
    }
    if (a.upper! <= b.strike! || b.upper! <= a.strike!) {
      return {
        relation: 'exclusive',
        confidence: 0.95,
        reasons: [`disjoint ranges: ${same}`],
        decided: true,
      };
    }
    return differ(['overlapping ranges']);
  }
  if (a.kind === 'range' || b.kind === 'range') {
    const r = a.kind === 'range' ? a : b;
    const t = a.kind === 'range' ? b : a;
    const inside =
      (t.kind === 'above' && (t.op === '>=' ? r.strike! >= t.strike! : r.strike! > t.strike!)) ||
      (t.kind === 'below' && r.upper! <= t.strike!);
    if (inside) {
      return {
        relation: 'implies',
        confidence: 0.9,
        reasons: [`range ${usd(r.strike)}–${usd(r.upper)} lies inside ${t.kind} ${usd(t.strike)}: ${same}`],
        decided: true,
        swap: r === b,
      };
    }
    return differ(['range and threshold not nested']);
  }
  // above/below thresholds
  if (a.kind === b.kind) {
    if (a.strike === b.strike) {
      if (a.op !== b.op) return differ([`tie at ${usd(a.strike)} treated differently: ${a.op} vs ${b.op}`]);
      return {
        relation: 'identical',
        confidence: 0.96,
        reasons: [`same ${a.kind} ${usd(a.strike)}: ${same}`],
        decided: true,
      };
    }
    // above: the higher strike implies the lower; below: the lower strike implies the higher
    const aImpliesB = a.kind === 'above' ? a.strike! > b.strike! : a.strike! < b.strike!;
    const hi = aImpliesB ? a : b;
    const lo = aImpliesB ? b : a;
    return {
      relation: 'implies',
      confidence: 0.95,
      reasons: [`${a.kind} ${usd(hi.strike)} implies ${a.kind} ${usd(lo.strike)}: ${same}`],
      decided: true,
      swap: !aImpliesB,
    };
  }
  if (a.strike === b.strike && complementary(a.op, b.op)) {
    return {
      relation: 'inverted',
      confidence: 0.95,
      reasons: [`YES of ${a.kind} ${a.op} ${usd(a.strike)} is NO of ${b.kind} ${b.op}: ${same}`],
      decided: true,
    };
  }
  if (a.strike === b.strike) {
    // "above X" vs "below X": a settlement exactly at X pays neither side; everywhere else YES of one is NO of the
    // other. Linked, with a lower confidence and the tie named, because the exact tie is a measure-zero event
    // for an index or candle close quoted to the cent.
    return {
      relation: 'inverted',
      confidence: 0.9,
      reasons: [
        `YES of ${a.kind} ${usd(a.strike)} is NO of ${b.kind} ${usd(b.strike)}: ${same}`,
        `a settlement exactly at ${usd(a.strike)} pays neither side (${a.op} vs ${b.op})`,
      ],
      decided: true,
    };
  }
  // above K1 and below K2: exclusive when the regions do not overlap
  const above = a.kind === 'above' ? a : b;
  const below = a.kind === 'above' ? b : a;
  if (above.strike! >= below.strike!) {
    return {
      relation: 'exclusive',
      confidence: 0.95,
      reasons: [`above ${usd(above.strike)} and below ${usd(below.strike)} cannot both hold: ${same}`],
      decided: true,
    };
  }
  return differ(['above/below regions overlap']);
}

/** A region of a percentage statistic: lo < x < hi, each end open or closed, undefined = unbounded. */
interface Region {
  readonly lo: number | undefined;
  readonly loIn: boolean;
  readonly hi: number | undefined;
  readonly hiIn: boolean;
  readonly text: string;
}

const decimals = (x: string): number => (x.includes('.') ? x.split('.')[1]!.length : 0);

function regionOf(e: EconSpec): Region | undefined {
  if (e.threshold === undefined) return undefined;
  const v = Number(e.threshold);
  if (e.upper !== undefined) {
    return { lo: v, loIn: true, hi: Number(e.upper), hiIn: true, text: `${e.threshold}%–${e.upper}%` };
  }
  switch (e.op) {
    case '>':
      return { lo: v, loIn: false, hi: undefined, hiIn: false, text: `> ${e.threshold}%` };
    case '>=':
      return { lo: v, loIn: true, hi: undefined, hiIn: false, text: `>= ${e.threshold}%` };
    case '<':
      return { lo: undefined, loIn: false, hi: v, hiIn: false, text: `< ${e.threshold}%` };
    case '<=':
      return { lo: undefined, loIn: false, hi: v, hiIn: true, text: `<= ${e.threshold}%` };
    default:
      return undefined;
  }
}

/** x ⊆ y for two regions. */
function inside(x: Region, y: Region): boolean {
  const loOk =
    y.lo === undefined || (x.lo !== undefined && (x.lo > y.lo || (x.lo === y.lo && (y.loIn || !x.loIn))));
  const hiOk =
    y.hi === undefined || (x.hi !== undefined && (x.hi < y.hi || (x.hi === y.hi && (y.hiIn || !x.hiIn))));
  return loOk && hiOk;
}

function disjoint(x: Region, y: Region): boolean {
  const below = (p: Region, q: Region) =>
    p.hi !== undefined && q.lo !== undefined && (p.hi < q.lo || (p.hi === q.lo && !(p.hiIn && q.loIn)));
  return below(x, y) || below(y, x);
}

/** Ends of the two regions that differ by no more than one step of the precision they are written in. */
function nearlyEqualEnds(a: EconSpec, b: EconSpec): boolean {
  const ends = (e: EconSpec) => [e.threshold, e.upper].filter((x): x is string => x !== undefined);
  for (const x of ends(a)) {
    for (const y of ends(b)) {
      const step = 10 ** -Math.max(decimals(x), decimals(y), 1);
      const d = Math.abs(Number(x) - Number(y));
      if (d > 0 && d <= step + 1e-9) return true;
    }
  }
  return false;
}

function compareEcon(fa: MarketFacts, fb: MarketFacts): RulesVerdict {
  const a = fa.econ!;
  const b = fb.econ!;
  if (a.metric !== b.metric) return differ([`different statistics: ${a.metric} vs ${b.metric}`]);
  if (a.country && b.country && a.country !== b.country)
    return differ([`${a.metric} of different countries: ${a.country} vs ${b.country}`]);
  if (a.units && b.units && a.units !== b.units) return differ([`${a.units} vs ${b.units} ${a.metric}`]);
  if (a.period && b.period && a.period !== b.period) {
    // a quarter and its year are different numbers, but not of one kind: leave that to the LLM or a person
    if (a.period.length === b.period.length) return differ([`different periods: ${a.period} vs ${b.period}`]);
    return undetermined([`periods of different lengths: ${a.period} vs ${b.period}`]);
  }
  const unread = [
    ...fa.unread.map((u) => `A: ${u} not stated`),
    ...fb.unread.map((u) => `B: ${u} not stated`),
  ];
  if (unread.length > 0) return undetermined(unread);
  if (!fa.source || fa.source !== fb.source)
    return undetermined([`settlement source ${fa.source ?? '?'} vs ${fb.source ?? '?'}`]);
  const ra = regionOf(a);
  const rb = regionOf(b);
  if (!ra || !rb) return undetermined(['threshold comparison not read']);
  if (nearlyEqualEnds(a, b))
    return undetermined([`bounds ${ra.text} and ${rb.text} differ by one step of their precision`]);
  const what = `${a.units ? `${a.units} ` : ''}${a.metric} for ${a.period} (${a.country}, ${fa.source})`;
  const ab = inside(ra, rb);
  const ba = inside(rb, ra);
  if (ab && ba) {
    return { relation: 'identical', confidence: 0.9, reasons: [`${what} ${ra.text}`], decided: true };
  }
  const complement =
    disjoint(ra, rb) &&
    ((ra.hi === undefined && rb.lo === undefined && ra.lo === rb.hi && ra.loIn !== rb.hiIn) ||
      (ra.lo === undefined && rb.hi === undefined && ra.hi === rb.lo && ra.hiIn !== rb.loIn));
  if (complement) {
    return {
      relation: 'inverted',
      confidence: 0.9,
      reasons: [`${what}: ${ra.text} is NO of ${rb.text}`],
      decided: true,
    };
  }
  if (ab || ba) {
    return {
      relation: 'implies',
      confidence: 0.9,
      reasons: [`${what}: ${(ab ? ra : rb).text} implies ${(ab ? rb : ra).text}`],
      decided: true,
      swap: !ab,
    };
  }
  if (disjoint(ra, rb)) {
    return {
      relation: 'exclusive',
      confidence: 0.9,
      reasons: [`${what}: ${ra.text} and ${rb.text} cannot both hold`],
      decided: true,
    };
  }
  return differ([`${what}: ${ra.text} and ${rb.text} overlap without one implying the other`], 0.9);
}

const single = (xs: readonly string[]): string | undefined => (xs.length === 1 ? xs[0] : undefined);

/**
 * Names that put two markets in different events. Outcome names (a party, a person) are not compared: they
 * distinguish outcomes of one event, which may be exclusive.
 */
function scopeDiffers(fa: MarketFacts, fb: MarketFacts): RulesVerdict | undefined {
  const a = fa.scope;
  const b = fb.scope;
  const bankA = single(a.banks);
  const bankB = single(b.banks);
  if (bankA && bankB && bankA !== bankB)
    return differ([`different central banks: ${bankA} vs ${bankB}`], 0.95);
  const dA = single(a.districts);
  const dB = single(b.districts);
  if (dA && dB && dA !== dB) return differ([`different districts: ${dA} vs ${dB}`], 0.95);
  const oA = single(a.offices);
  const oB = single(b.offices);
  // a nomination or primary may imply the office, so offices are compared only without one
  if (oA && oB && oA !== oB && !a.stage && !b.stage)
    return differ([`different offices: ${oA} vs ${oB}`], 0.9);
  // a state or country is the scope of an election only (elsewhere it may name an outcome: a team, a winner)
  const sA = single(a.states);
  const sB = single(b.states);
  if (oA && oB && sA && sB && sA !== sB)
    return differ([`elections in different states: ${sA} vs ${sB}`], 0.9);
  const cA = single(a.countries);
  const cB = single(b.countries);
  if (oA && oB && cA && cB && cA !== cB)
    return differ([`elections in different countries: ${cA} vs ${cB}`], 0.9);
  return undefined;
}

/** Compares two markets' facts. */
export function compareFacts(fa: MarketFacts, fb: MarketFacts): RulesVerdict {
  if (fa.crypto && fb.crypto) return compareCrypto(fa, fb);
  if (fa.crypto || fb.crypto) {
    return fa.econ || fb.econ
      ? differ(['a crypto price market and an economic release'])
      : undetermined(['only one side reads as a crypto price market']);
  }
  const scope = scopeDiffers(fa, fb);
  if (scope) return scope;
  if (fa.econ && fb.econ) return compareEcon(fa, fb);
  return undetermined(['settlement facts not machine-readable (no structured source, instant or threshold)']);
}
