/**
 * The rules stage: compares the settlement facts of two markets (facts.ts) and either decides, or says it cannot.
 *
 * It never calls two markets identical (or inverted, or related) when a fact differs or could not be read on
 * either side: a difference is a `different` verdict naming it; a fact it could not read makes the verdict
 * undetermined (`decided: false`), which the matcher hands to the LLM, or reports as `different` with the reason
 * "undetermined" when it runs rules-only.
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
import type { Comparison, CryptoSpec, MarketFacts } from './facts.ts';
import { isoUtc } from './time.ts';

export interface RulesVerdict {
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly reasons: readonly string[];
  /** false: the rules could not settle it (defer to the LLM, or `different` + "undetermined" without one) */
  readonly decided: boolean;
  /** implies: true when the second market implies the first (swap a and b for the link) */
  readonly swap?: boolean;
}

const undetermined = (reasons: string[]): RulesVerdict => ({
  relation: 'different',
  confidence: 0,
  reasons,
  decided: false,
});
const differ = (reasons: string[]): RulesVerdict => ({
  relation: 'different',
  confidence: 0.99,
  reasons,
  decided: true,
});

const usd = (e8: number | undefined): string =>
  e8 === undefined ? '?' : `$${(e8 / 1e8).toLocaleString('en-US', { maximumFractionDigits: 2 })}`;

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
  if (unread.length > 0) return undetermined(['undetermined', ...unread]);
  // the end time alone is not a settlement fact (venues pad close times): require it read from ticker or text
  if (a.expiryFrom === 'end_time' || b.expiryFrom === 'end_time') {
    return undetermined(['undetermined', 'settlement time only from the venue end time']);
  }
  const same = `${a.asset}, ${isoUtc(a.expiry!)}, ${fa.source}${fa.window ? ` ${fa.window}` : ''}`;
  if (a.kind === 'up_down') {
    if (a.start === undefined || b.start === undefined)
      return undetermined(['undetermined', 'window start not stated']);
    if (a.op !== b.op) return undetermined(['undetermined', 'tie rule (up on equal) not stated on both']);
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

function compareEcon(fa: MarketFacts, fb: MarketFacts): RulesVerdict {
  const a = fa.econ!;
  const b = fb.econ!;
  if (a.metric !== b.metric) return differ([`different statistics: ${a.metric} vs ${b.metric}`]);
  if (a.units && b.units && a.units !== b.units) return differ([`${a.units} vs ${b.units} ${a.metric}`]);
  if (a.period && b.period && a.period !== b.period)
    return differ([`different periods: ${a.period} vs ${b.period}`]);
  if (a.threshold && b.threshold && a.threshold !== b.threshold) {
    return differ([`different thresholds: ${a.threshold}% vs ${b.threshold}%`]);
  }
  const unread = [
    ...fa.unread.map((u) => `A: ${u} not stated`),
    ...fb.unread.map((u) => `B: ${u} not stated`),
  ];
  if (unread.length > 0) return undetermined(['undetermined', ...unread]);
  if (fa.source !== fb.source)
    return undetermined(['undetermined', `source ${fa.source ?? '?'} vs ${fb.source ?? '?'}`]);
  if (a.op === b.op) {
    return {
      relation: 'identical',
      confidence: 0.9,
      reasons: [
        `${a.units ? `${a.units} ` : ''}${a.metric} ${a.op} ${a.threshold}% for ${a.period} (${fa.source})`,
      ],
      decided: true,
    };
  }
  if (complementary(a.op, b.op)) {
    return {
      relation: 'inverted',
      confidence: 0.9,
      reasons: [`${a.metric} ${a.op} vs ${b.op} ${a.threshold}%`],
      decided: true,
    };
  }
  return differ([`tie at ${a.threshold}% treated differently (${a.op} vs ${b.op})`]);
}

/** Compares two markets' facts. */
export function compareFacts(fa: MarketFacts, fb: MarketFacts): RulesVerdict {
  if (fa.crypto && fb.crypto) return compareCrypto(fa, fb);
  if (fa.crypto || fb.crypto) {
    return fa.econ || fb.econ
      ? differ(['a crypto price market and an economic release'])
      : undetermined(['undetermined', 'only one side reads as a crypto price market']);
  }
  if (fa.econ && fb.econ) return compareEcon(fa, fb);
  return undetermined(['undetermined', 'settlement facts not machine-readable']);
}
