/**
 * matcher.candidates_ms_100k: candidate generation for 100,000 markets per venue (200,000 in all).
 *
 * A seeded synthetic listing shaped like the real ones, in eight kinds: elections (people, offices, states),
 * party nominations, economic releases (statistic, country, month, threshold), crypto threshold ladders (two of
 * the eight: a strike per $250 around the spot, hourly), head-to-head matches, company events, and daily
 * temperature ladders; half of each kind has a twin on the other venue, worded the other venue's way (Kalshi
 * title + yes_sub_title, Polymarket question + event title).
 * Settlement facts are read first (they are part of the matcher's per-market work but not of this figure); then
 * every market is added to a fresh CandidateIndex, alternating venues as listings arrive, and the CPU time of that
 * loop is the figure (process.cpuUsage: other processes on the shared machine do not inflate it; the wall time
 * and the load average are in the note). Median of 3 runs. The share of twins proposed is logged as a sanity
 * check. BENCH_QUICK: 20,000 markets per venue, same name.
 */
import { loadavg } from 'node:os';
import type { Market, Venue } from '../src/core/messages.ts';
import { mulberry32 } from '../src/core/prng.ts';
import { CandidateIndex } from '../src/matcher/candidates.ts';
import { extractFacts, type MarketFacts } from '../src/matcher/facts.ts';
import { type BenchContext, median, nowNs, repeat } from './harness.ts';

const SYL = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tor',
  'sa',
  'vel',
  'dan',
  'ri',
  'mo',
  'zu',
  'bel',
  'an',
  'os',
  'ter',
  'ni',
];
const STATES = [
  'Ohio',
  'Texas',
  'Arizona',
  'Nevada',
  'Georgia',
  'Michigan',
  'Iowa',
  'Maine',
  'Utah',
  'Oregon',
];
const OFFICES = ['Senate', 'governor', 'House', 'mayor', 'attorney general'];
const COUNTRIES = [
  'US',
  'UK',
  'Canada',
  'Mexico',
  'Japan',
  'Germany',
  'France',
  'Brazil',
  'India',
  'Spain',
  'Italy',
  'Australia',
  'South Korea',
  'Turkey',
  'Argentina',
  'Poland',
  'Sweden',
  'Chile',
  'Colombia',
  'Norway',
];
const STATS = [
  'GDP growth',
  'CPI inflation',
  'core CPI inflation',
  'the unemployment rate',
  'retail sales growth',
];
const ALL_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const CITIES = [
  'Chicago',
  'Miami',
  'Denver',
  'Austin',
  'Boston',
  'Seattle',
  'Phoenix',
  'Atlanta',
  'Dallas',
  'Houston',
];
const MONTHS = ['January', 'March', 'May', 'July', 'September', 'November'];

interface Pair {
  readonly pm: Omit<
    Market,
    | 'type'
    | 'venue'
    | 'marketId'
    | 'outcomes'
    | 'fees'
    | 'tickSize'
    | 'minSize'
    | 'status'
    | 'version'
    | 'receiveTime'
  >;
  readonly kx: Pair['pm'];
}

/** Whether Kalshi market i is the twin of Polymarket market i: every other block of the 8 kinds. */
export const hasTwin = (i: number): boolean => Math.floor(i / 8) % 2 === 0;

export function listing(perVenue: number, seed: number): { pm: Market[]; kx: Market[] } {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const word = (n: number) => Array.from({ length: n }, () => pick(SYL)).join('');
  const name = () => `${cap(word(2))} ${cap(word(2 + Math.floor(r() * 2)))}`;
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  const end = (days: number) => Date.UTC(2026, 0, 1) + Math.floor(days) * 86_400_000;

  const make = (i: number): Pair => {
    const year = 2026 + Math.floor(r() * 3);
    switch (i % 8) {
      case 7:
        return make(3);
      case 0: {
        const n = name();
        const st = pick(STATES);
        const off = pick(OFFICES);
        return {
          pm: {
            question: `Will ${n} win the ${year} ${st} ${off} race?`,
            rules: '',
            endTime: end(300 + r() * 400),
          },
          kx: {
            question: `Will ${n} be elected ${off} of ${st} in ${year}?`,
            subtitle: n,
            rules: '',
            endTime: end(300 + r() * 400),
          },
        };
      }
      case 1: {
        const n = name();
        const party = pick(['Democratic', 'Republican']);
        return {
          pm: {
            question: `Will ${n} win the ${year + 2} ${party} presidential nomination?`,
            eventTitle: `${party} Presidential Nominee ${year + 2}`,
            rules: '',
            endTime: end(900),
          },
          kx: {
            question: `Will ${n} be the ${party} Presidential nominee in ${year + 2}?`,
            subtitle: n,
            rules: '',
            endTime: end(880),
          },
        };
      }
      case 2: {
        // economic releases: a statistic of a country for a month, a few thresholds each
        const c = pick(COUNTRIES);
        const stat = pick(STATS);
        const mon = pick(ALL_MONTHS);
        const lo = (Math.floor(r() * 40) / 10).toFixed(1);
        return {
          pm: {
            question: `Will ${c} ${stat} for ${mon} ${year} be above ${lo}%?`,
            rules: '',
            endTime: end(200),
          },
          kx: {
            question: `${c} ${stat} in ${mon} ${year}?`,
            subtitle: `Above ${lo}%`,
            rules: '',
            endTime: end(200),
          },
        };
      }
      case 3: {
        const day = 1 + Math.floor(r() * 28);
        const hour = 1 + Math.floor(r() * 11);
        const strike = 60_000 + 250 * Math.floor(r() * 80);
        const mon = pick(MONTHS);
        const rules = `If the simple average of the sixty seconds of CF Benchmarks' Bitcoin Real-Time Index (BRTI) before ${hour} AM ET on ${mon} ${day}, 2026 is above ${strike - 0.01}, then the market resolves to Yes.`;
        return {
          pm: {
            question: `Bitcoin above ${strike.toLocaleString('en-US')} on ${mon} ${day}, ${hour}AM ET?`,
            rules,
            endTime: end(100 + day),
          },
          kx: {
            question: `Bitcoin price on ${mon.slice(0, 3)} ${day}, 2026?`,
            subtitle: `$${strike.toLocaleString('en-US')} or above`,
            rules,
            endTime: end(100 + day),
          },
        };
      }
      case 4: {
        const a = name().split(' ')[1]!;
        const b = name().split(' ')[1]!;
        const day = 1 + Math.floor(r() * 28);
        return {
          pm: {
            question: `${a} vs. ${b}`,
            slug: `atp-${a.toLowerCase()}-${b.toLowerCase()}-2026-05-${String(day).padStart(2, '0')}`,
            rules: '',
            endTime: end(120 + day),
          },
          kx: {
            question: `Will ${a} win the ${a} vs ${b} match?`,
            subtitle: a,
            rules: '',
            endTime: end(120 + day),
          },
        };
      }
      case 6: {
        // daily temperature ladders: a city, a day, a threshold
        const city = pick(CITIES);
        const day = 1 + Math.floor(r() * 28);
        const mon = pick(ALL_MONTHS);
        const t = 40 + Math.floor(r() * 50);
        return {
          pm: {
            question: `Will the highest temperature in ${city} be ${t}°F or higher on ${mon} ${day}?`,
            rules: '',
            endTime: end(150 + day),
          },
          kx: {
            question: `Highest temperature in ${city} on ${mon.slice(0, 3)} ${day}, 2026?`,
            subtitle: `${t}° or above`,
            rules: '',
            endTime: end(150 + day),
          },
        };
      }
      default: {
        const co = cap(word(3));
        const what = pick([
          'announce a merger',
          'release a new product',
          'replace its CEO',
          'file for an IPO',
          'cut jobs',
        ]);
        const mon = pick(MONTHS);
        return {
          pm: { question: `Will ${co} ${what} by ${mon} 30, ${year}?`, rules: '', endTime: end(400) },
          kx: { question: `Will ${co} ${what} before ${mon} 30?`, rules: '', endTime: end(400) },
        };
      }
    }
  };

  const full = (venue: Venue, id: string, p: Pair['pm']): Market => ({
    type: 'market',
    venue,
    marketId: id,
    outcomes: [
      { tokenId: `${id}:y`, label: 'Yes', side: 'yes' },
      { tokenId: `${id}:n`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 1_000_000,
    fees: { kind: 'none' },
    status: 'open',
    version: 'v1',
    receiveTime: 0,
    ...p,
  });
  const pm: Market[] = [];
  const kx: Market[] = [];
  for (let i = 0; i < perVenue; i++) {
    const p = make(i);
    pm.push(full('polymarket', `pm${i}`, p.pm));
    // half of the markets (of every kind) have a twin; the other half are unrelated markets of the same kind
    kx.push(full('kalshi', `KX${i}`, hasTwin(i) ? p.kx : make(i).kx));
  }
  return { pm, kx };
}

export async function run(ctx: BenchContext): Promise<void> {
  const perVenue = ctx.quick ? 4_000 : 100_000;
  const { pm, kx } = listing(perVenue, 15);
  let twinCount = 0;
  for (let i = 0; i < perVenue; i++) if (hasTwin(i)) twinCount++;
  const order: Market[] = [];
  for (let i = 0; i < perVenue; i++) order.push(pm[i]!, kx[i]!);
  const t0 = nowNs();
  const facts = new Map<Market, MarketFacts>(order.map((m) => [m, extractFacts(m)]));
  const factsMs = (nowNs() - t0) / 1e6;
  let twins = 0;
  let found = 0;
  let perMarketMax = 0;
  const walls: number[] = [];
  const load = loadavg()[0]!.toFixed(1);
  const cpu = await repeat(3, () => {
    const idx = new CandidateIndex();
    const w0 = nowNs();
    const c0 = process.cpuUsage();
    twins = 0;
    found = 0;
    for (const m of order) {
      const cands = idx.add(m, facts.get(m)!);
      found += cands.length;
      perMarketMax = Math.max(perMarketMax, cands.length);
      if (m.venue === 'kalshi') {
        const i = Number(m.marketId.slice(2));
        if (hasTwin(i) && cands.some((c) => c.marketId === `pm${i}`)) twins++;
      }
    }
    const c = process.cpuUsage(c0);
    walls.push((nowNs() - w0) / 1e6);
    return (c.user + c.system) / 1_000;
  });
  const ms = median(cpu);
  ctx.log(
    `matcher: ${perVenue.toLocaleString('en-US')} markets per venue; twins proposed ${((twins / twinCount) * 100).toFixed(1)}%; ` +
      `${(found / order.length).toFixed(2)} candidates per market (max ${perMarketMax}); facts ${factsMs.toFixed(0)} ms`,
  );
  ctx.record(
    'matcher.candidates_ms_100k',
    ms,
    `CandidateIndex.add CPU time (process.cpuUsage) for ${perVenue.toLocaleString('en-US')} markets per venue, synthetic listing (elections, nominations, economic releases, BTC ladders (2 of 8), matches, company events, temperature ladders; half of each kind with a twin worded the other venue's way), median of 3 runs; wall ${median(walls).toFixed(0)} ms; load average ${load}; twins proposed ${((twins / twinCount) * 100).toFixed(1)}%`,
  );
}
