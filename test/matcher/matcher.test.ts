import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import type { Market } from '../../src/core/messages.ts';
import { costOf, createAnthropicJudge, INSTRUCTIONS, storeBudget, utcDay } from '../../src/matcher/llm.ts';
import { type MatchDecision, Matcher } from '../../src/matcher/matcher.ts';
import { UNDETERMINED } from '../../src/matcher/rules.ts';
import { createJsonMatchStore, createMemoryMatchStore, type MatchStore } from '../../src/matcher/store.ts';
import {
  apiError,
  type FakeAnthropic,
  judgeEach,
  promptPairs,
  questionOf,
  refusal,
  startFakeAnthropic,
  textAnswer,
  toolInput,
} from '../fakes/anthropic-server.ts';
import {
  kalshi,
  kxBelow100k12,
  kxFed,
  kxGdpNominal,
  kxGdpReal,
  kxGdpUnstated,
  kxRange99750,
  kxRange100250,
  kxT90k12,
  kxT100k12,
  kxT100k13,
  pm,
  pmBinance100k,
  pmBrti100k,
  pmBrtiNoHourInTitle,
  pmFed,
  pmGdpReal,
} from './cases.ts';

const ids = (d: MatchDecision) => [`${d.a.venue}:${d.a.marketId}`, `${d.b.venue}:${d.b.marketId}`];

function matcher(
  store: MatchStore = createMemoryMatchStore(),
  llm?: ReturnType<typeof createAnthropicJudge>,
  minConfidence = 0.8,
) {
  return new Matcher({ store, llm, minConfidence, now: () => 42, log: silentLogger() });
}

/** Feeds `first` then `second`; returns the decision for that pair. */
async function judge(m: Matcher, first: Market, second: Market): Promise<MatchDecision | undefined> {
  await m.onMarket(first);
  const out = await m.onMarket(second);
  return out.decisions.find((d) => ids(d).includes(`${first.venue}:${first.marketId}`));
}

describe('rules-only matcher', () => {
  it('identical: same BTC strike, same index, same minute', async () => {
    const d = await judge(matcher(), pmBrti100k, kxT100k12);
    expect(d).toMatchObject({ relation: 'identical', stage: 'rules' });
    expect(d!.confidence).toBeGreaterThan(0.9);
  });

  it('near miss: Binance BTC/USDT 1-hour close vs a 60-second index average is different', async () => {
    const d = await judge(matcher(), pmBinance100k, kxT100k12);
    expect(d).toMatchObject({ relation: 'different', stage: 'rules' });
    expect(d!.reasons.join(' ')).toMatch(/settlement source differs: binance:BTC\/USDT vs cf_brti/);
  });

  it('near miss: same strike one hour apart (hour only in the ticker and the rules) is different', async () => {
    // not even a candidate (another settlement instant), and different when asked directly
    const m = matcher();
    await m.onMarket(pmBrtiNoHourInTitle);
    expect((await m.onMarket(kxT100k13)).decisions).toEqual([]);
    const d = await m.decide(pmBrtiNoHourInTitle, kxT100k13);
    expect(d).toMatchObject({ relation: 'different', stage: 'rules' });
    expect(d!.reasons[0]).toBe('settlement time differs: 2026-12-31T17:00:00Z vs 2026-12-31T18:00:00Z');
  });

  it('near miss: nominal vs real GDP growth is different; real vs real is identical', async () => {
    const d = await judge(matcher(), pmGdpReal, kxGdpNominal);
    expect(d).toMatchObject({ relation: 'different', stage: 'rules' });
    expect(d!.reasons).toContain('real vs nominal gdp');
    const same = await judge(matcher(), pmGdpReal, kxGdpReal);
    expect(same).toMatchObject({ relation: 'identical', stage: 'rules' });
  });

  it('unstated units are undetermined, never identical, and the pair waits for review', async () => {
    const store = createMemoryMatchStore();
    const d = await judge(matcher(store), pmGdpReal, kxGdpUnstated);
    expect(d).toMatchObject({ relation: 'undetermined', stage: 'rules', confidence: 0 });
    expect(d!.reasons[0]).toBe(UNDETERMINED);
    expect(d!.reasons.join(' ')).toMatch(/nominal or real not stated/);
    const queue = await store.listReview();
    expect(queue.map((r) => [r.a.marketId, r.b.marketId, r.relation])).toEqual([
      [pmGdpReal.marketId, kxGdpUnstated.marketId, 'undetermined'],
    ]);
    expect(queue[0]!.a).toMatchObject({
      question: pmGdpReal.question,
      rules: pmGdpReal.rules,
      version: 'v1',
    });
  });

  it('inverted: YES above $100k on Polymarket is NO of "$100k or below" on Kalshi', async () => {
    const d = await judge(matcher(), pmBrti100k, kxBelow100k12);
    expect(d).toMatchObject({ relation: 'inverted', stage: 'rules' });
  });

  it('implies: above $100k implies above $90k (oriented a ⇒ b)', async () => {
    const d = await judge(matcher(), kxT90k12, kxT100k12);
    expect(d).toMatchObject({ relation: 'implies', stage: 'rules' });
    expect(ids(d!)).toEqual(['kalshi:KXBTCD-26DEC3112-T100000', 'kalshi:KXBTCD-26DEC3112-T90000']);
  });

  it('exclusive: disjoint range buckets', async () => {
    const d = await judge(matcher(), kxRange99750, kxRange100250);
    expect(d).toMatchObject({ relation: 'exclusive', stage: 'rules' });
  });

  it('text-only pairs are undetermined without an LLM, never different', async () => {
    const d = await judge(matcher(), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'undetermined', stage: 'rules', confidence: 0 });
    expect(d!.reasons).toEqual([
      UNDETERMINED,
      'settlement facts not machine-readable (no structured source, instant or threshold)',
      'rules only (ANTHROPIC_API_KEY is not set): queued for review',
    ]);
  });

  it('names that put two markets in different events make them different; outcome names never do', async () => {
    const q = (id: string, question: string, venue: 'pm' | 'kx') =>
      venue === 'pm'
        ? pm(id, question, '', '2026-11-04T00:00:00Z')
        : kalshi(id, question, '', '2026-11-04T00:00:00Z');
    const cases: [string, string, string][] = [
      [
        'Will the Fed cut rates in March 2026?',
        'Will the ECB cut rates in March 2026?',
        'different central banks: fed vs ecb',
      ],
      [
        'Will the Democrat win the OH-09 House seat?',
        'Will the Democrat win the House race for OH-13?',
        'different districts: oh-9 vs oh-13',
      ],
      [
        'Will the Republicans win the Ohio governor race?',
        'Will the Republicans win the Ohio Senate race?',
        'different offices: governor vs senate',
      ],
      [
        'Will Democrats win the Arizona Senate race in 2026?',
        'Will Democrats win the Nevada Senate race in 2026?',
        'elections in different states: arizona vs nevada',
      ],
      [
        'Will the Labour candidate be the next Prime Minister of the UK?',
        'Will the Labour candidate be the next Prime Minister of Canada?',
        'elections in different countries: uk vs canada',
      ],
    ];
    for (const [x, y, why] of cases) {
      const d = await judge(matcher(), q('p1', x, 'pm'), q('K-1', y, 'kx'));
      expect(d, x).toMatchObject({ relation: 'different', stage: 'rules', reasons: [why] });
    }
    // two people for one office, two parties for one seat, a nomination and the office: never "different"
    const open: [string, string][] = [
      [
        'Will Ana Reyes be the next Prime Minister of Spain?',
        'Will Luis Ortega be the next Prime Minister of Spain?',
      ],
      ['Will the Republican win the TX-40 House seat?', 'Will another party win the House race for TX-40?'],
      [
        'Will Dana Cole win the 2028 Democratic presidential nomination?',
        'Will Dana Cole win the 2028 Senate race?',
      ],
      ['Will the Indiana Hornets win the 2027 title?', 'Will the Texas Owls win the 2027 title?'],
    ];
    for (const [x, y] of open) {
      const d = await judge(matcher(), q('p2', x, 'pm'), q('K-2', y, 'kx'));
      expect(d?.relation, x).toBe('undetermined');
    }
  });

  it('economic releases: threshold regions give identical, inverted, implies, exclusive; one step apart waits', async () => {
    const gdp = (id: string, title: string, venue: 'pm' | 'kx') => {
      const rules = `Resolves on the annualized real GDP growth rate for Q3 2026 in the Bureau of Economic Analysis (BEA) advance estimate. ${title}`;
      return venue === 'pm'
        ? pm(id, title, rules, '2026-10-30T12:30:00Z')
        : kalshi(id, title, rules, '2026-10-30T12:30:00Z');
    };
    const cases: [string, string, string, string?][] = [
      ['Real GDP growth above 2.5% in Q3 2026?', 'Real GDP growth above 2.5% in Q3 2026?', 'identical'],
      ['Real GDP growth above 2.5% in Q3 2026?', 'Real GDP growth of 2.5% or less in Q3 2026?', 'inverted'],
      ['Real GDP growth above 3.5% in Q3 2026?', 'Real GDP growth above 2.0% in Q3 2026?', 'implies'],
      ['Real GDP growth above 3.5% in Q3 2026?', 'Real GDP growth below 1.0% in Q3 2026?', 'exclusive'],
      [
        'Real GDP growth between 2.0% and 2.5% in Q3 2026?',
        'Real GDP growth 2.1% to 2.5% in Q3 2026?',
        'undetermined',
      ],
      ['Real GDP growth above 2.5% in Q3 2026?', 'Real GDP growth above 2.5% in Q4 2026?', 'different'],
    ];
    for (const [x, y, rel] of cases) {
      const d = await judge(matcher(), gdp('pm-g', x, 'pm'), gdp('KXG-1', y, 'kx'));
      expect(d?.relation, `${x} / ${y}`).toBe(rel);
    }
  });

  it('publishes accepted links and withdraws one when a manual reject arrives', async () => {
    const m = matcher();
    await m.onMarket(pmBrti100k);
    const out = await m.onMarket(kxT100k12);
    expect(out.links.map((l) => l.relation)).toEqual(['identical']);
    expect(out.oracleLink?.kind).toBe('above');
    const withdrawn = await m.setOverride({
      a: { venue: 'polymarket', marketId: pmBrti100k.marketId },
      b: { venue: 'kalshi', marketId: kxT100k12.marketId },
      decision: 'reject',
      at: 1,
    });
    expect(withdrawn).toMatchObject({ relation: 'different', stage: 'manual' });
  });

  it('forgets a resolved market: an override naming it re-judges nothing', async () => {
    const m = matcher();
    await m.onMarket(pmBrti100k);
    await m.onMarket(kxT100k12);
    const resolved = await m.onMarket({
      ...kxT100k12,
      status: 'resolved',
      winner: kxT100k12.outcomes[0]!.tokenId,
    });
    expect(resolved.links).toEqual([]);
    const after = await m.setOverride({
      a: { venue: 'polymarket', marketId: pmBrti100k.marketId },
      b: { venue: 'kalshi', marketId: kxT100k12.marketId },
      decision: 'reject',
      at: 1,
    });
    expect(after).toBeUndefined();
  });

  it("a resolved market's links and review items leave the matcher, the store and the file; a human verdict stays", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-arb-forget-'));
    try {
      const path = join(dir, 'matches.json');
      const store = createJsonMatchStore(path, { writeDelayMs: 0 });
      const m = matcher(store);
      await m.init();
      // a link (BRTI $100k identical) and a review item (Fed: undetermined), plus a person's verdict on the Fed pair
      await m.onMarket(pmBrti100k);
      expect((await m.onMarket(kxT100k12)).links).toHaveLength(1);
      await m.onMarket(pmFed);
      await m.onMarket(kxFed);
      const fedOverride = {
        a: { venue: 'polymarket' as const, marketId: pmFed.marketId },
        b: { venue: 'kalshi' as const, marketId: kxFed.marketId },
        decision: 'reject' as const,
        at: 7,
        note: 'different meetings',
      };
      await store.setOverride(fedOverride);
      store.flush();
      const fileOf = () => JSON.parse(readFileSync(path, 'utf8'));
      expect(Object.keys(fileOf().links)).toHaveLength(1);
      expect(Object.keys(fileOf().review)).toHaveLength(1);

      await m.onMarket({ ...kxT100k12, status: 'resolved', winner: kxT100k12.outcomes[0]!.tokenId });
      await m.onMarket({ ...kxFed, status: 'resolved', winner: kxFed.outcomes[0]!.tokenId });
      store.flush();
      expect(await store.listLinks()).toEqual([]);
      expect(await store.listReview()).toEqual([]);
      expect(fileOf().links).toEqual({});
      expect(fileOf().review).toEqual({});
      expect(await store.listOverrides()).toEqual([fedOverride]);
      expect(fileOf().overrides).toEqual([fedOverride]);

      // the market relisted open: judged afresh and published again (its old relation was forgotten, not kept)
      const again = await m.onMarket({ ...kxT100k12, marketId: `${kxT100k12.marketId}-R` });
      expect(again.links.map((l) => l.relation)).toEqual(['identical']);
      expect(await store.listLinks()).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a resolved market drops the links stored by an earlier run (indexed at init)', async () => {
    const store = createMemoryMatchStore();
    const first = matcher(store);
    await first.init();
    await first.onMarket(pmBrti100k);
    await first.onMarket(kxT100k12);
    await first.onMarket(pmFed);
    await first.onMarket(kxFed);
    expect(await store.listLinks()).toHaveLength(1);
    expect(await store.listReview()).toHaveLength(1);
    const second = matcher(store);
    await second.init();
    await second.onMarket({ ...pmBrti100k, status: 'resolved', winner: pmBrti100k.outcomes[0]!.tokenId });
    expect(await store.listLinks()).toEqual([]);
    expect(await store.listReview()).toHaveLength(1);
    await second.onMarket({ ...pmFed, status: 'resolved', winner: pmFed.outcomes[0]!.tokenId });
    expect(await store.listReview()).toEqual([]);
  });

  it('a closed market keeps its links: only resolution forgets', async () => {
    const store = createMemoryMatchStore();
    const m = matcher(store);
    await m.onMarket(pmBrti100k);
    await m.onMarket(kxT100k12);
    await m.onMarket({ ...kxT100k12, status: 'closed' });
    expect(await store.listLinks()).toHaveLength(1);
  });

  it('a manual approve overrides an undetermined pair and takes it off the review queue', async () => {
    const store = createMemoryMatchStore();
    const m = matcher(store);
    await m.init();
    expect(await judge(m, pmFed, kxFed)).toMatchObject({ relation: 'undetermined' });
    expect(await store.listReview()).toHaveLength(1);
    const link = await m.setOverride({
      a: { venue: 'polymarket', marketId: pmFed.marketId },
      b: { venue: 'kalshi', marketId: kxFed.marketId },
      decision: 'approve',
      at: 1,
    });
    expect(link).toMatchObject({ relation: 'identical', stage: 'manual', confidence: 1 });
    expect(await store.listReview()).toEqual([]);
    const d = await judge(m, pmFed, { ...kxFed, version: 'v2' });
    expect(d).toMatchObject({ relation: 'identical', stage: 'manual', confidence: 1 });
  });

  it('a market seen again at the same version is not re-judged', async () => {
    const m = matcher();
    await m.onMarket(pmBrti100k);
    await m.onMarket(kxT100k12);
    const again = await m.onMarket(kxT100k12);
    expect(again.decisions).toEqual([]);
    const bumped = await m.onMarket({ ...kxT100k12, version: 'v2' });
    expect(bumped.decisions).toHaveLength(1);
  });
});

describe('matcher with the LLM (real SDK against a local fake Messages API)', () => {
  let fake: FakeAnthropic;
  let dir: string;
  const MODEL = 'claude-sonnet-5-5';
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dir = mkdtempSync(join(tmpdir(), 'pmarb-match-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const judgeClient = (
    o: { store?: MatchStore; budget?: number; batchSize?: number; maxRetries?: number } = {},
  ) =>
    createAnthropicJudge({
      apiKey: 'test-key',
      baseUrl: fake.url,
      model: MODEL,
      effort: 'low',
      log: silentLogger(),
      maxRetries: o.maxRetries ?? 0,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
      ...(o.store ? { budget: storeBudget(o.store, o.budget ?? 5_000_000, () => 42) } : {}),
    });
  const fresh = () => {
    fake.requests.length = 0;
  };
  /** Three text-only pairs the rules cannot settle. */
  const fedPairs = (): [Market, Market][] =>
    [0, 1, 2].map((i) => [
      { ...pmFed, marketId: `pm-fed-${i}` },
      { ...kxFed, marketId: `KXFED-${i}` },
    ]);

  it('asks in batches with the instructions cached, records tokens and cost per verdict, and links', async () => {
    fresh();
    fake.respond(
      judgeEach(() => ({ relation: 'identical', confidence: 0.93, reasoning: 'same FOMC decision' })),
    );
    const store = createMemoryMatchStore();
    const m = matcher(store, judgeClient({ store, batchSize: 2 }));
    const ds = await m.decideMany(fedPairs());
    expect(ds.map((d) => [d.relation, d.stage, d.confidence])).toEqual([
      ['identical', 'llm', 0.93],
      ['identical', 'llm', 0.93],
      ['identical', 'llm', 0.93],
    ]);
    // two requests: pairs 1-2, then pair 3
    expect(fake.requests.map((r) => promptPairs(r).length)).toEqual([2, 1]);
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.body.model).toBe(MODEL);
    expect(req.body.system).toEqual([
      { type: 'text', text: INSTRUCTIONS, cache_control: { type: 'ephemeral' } },
    ]);
    // not forced: Claude Sonnet 5.5 (the default model) answers a forced tool choice with HTTP 400
    expect(req.body.tool_choice).toEqual({ type: 'auto' });
    // adaptive thinking at the default effort would spend the small max_tokens before the verdicts
    expect(req.body.output_config).toEqual({ effort: 'low' });
    expect(req.body.tools[0].input_schema.properties.verdicts.items.required).toEqual(
      expect.arrayContaining(['pair', 'relation', 'confidence', 'quotes_a', 'quotes_b']),
    );
    expect(req.body.messages[0].content).toContain('=== Pair 2 ===');
    expect(req.body.messages[0].content).toContain('Fed cuts interest rates in December 2026?');
    expect(String(req.headers['x-api-key'] ?? req.headers.authorization)).toMatch(/test-key/);
    // the first request writes the instructions to the cache, the second reads them
    const [u1, , u3] = ds.map((d) => d.usage!);
    expect(u1).toMatchObject({ model: MODEL, batchSize: 2 });
    expect(u1!.cacheWriteTokens).toBeGreaterThan(0);
    expect(u3).toMatchObject({ batchSize: 1, cacheWriteTokens: 0 });
    expect(u3!.cacheReadTokens).toBe(Math.ceil(INSTRUCTIONS.length / 4));
    expect(u3!.costMicro).toBe(costOf(MODEL, u3!));
    // the cached verdict keeps the quotes and the usage; the day's spending is the sum of the requests
    const stored = await store.listVerdicts();
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({ quotesA: [pmFed.question], quotesB: [kxFed.question], usage: u1 });
    const spent = await store.llmSpend(utcDay(42));
    expect(spent.requests).toBe(2);
    expect(spent.costMicro).toBe(ds.reduce((n, d) => n + d.usage!.costMicro, 0));
    expect(m.stats.llmCostMicro).toBe(spent.costMicro);
  });

  it('pays a verdict once: the durable cache answers for the same versions, a new version is asked again', async () => {
    fresh();
    fake.respond(judgeEach(() => ({ relation: 'identical', confidence: 0.93 })));
    const path = join(dir, 'matches.json');
    const s1 = createJsonMatchStore(path);
    const d1 = await judge(matcher(s1, judgeClient()), pmFed, kxFed);
    expect(d1).toMatchObject({ relation: 'identical', stage: 'llm', confidence: 0.93 });
    s1.flush();
    expect(fake.requests).toHaveLength(1);
    // a new process reading the same file: no second call
    const d2 = await judge(matcher(createJsonMatchStore(path), judgeClient()), pmFed, kxFed);
    expect(d2).toMatchObject({ relation: 'identical', stage: 'cache' });
    expect(fake.requests).toHaveLength(1);
    const s3 = createJsonMatchStore(path);
    await judge(matcher(s3, judgeClient()), pmFed, { ...kxFed, version: 'v2' });
    s3.flush();
    expect(fake.requests).toHaveLength(2);
  });

  it('never asks the LLM about pairs the rules already decided', async () => {
    fresh();
    fake.respond(judgeEach(() => ({ relation: 'identical', confidence: 1 })));
    const llm = judgeClient();
    expect(await judge(matcher(undefined, llm), pmBinance100k, kxT100k12)).toMatchObject({
      relation: 'different',
      stage: 'rules',
    });
    expect(await matcher(undefined, llm).decide(pmBrtiNoHourInTitle, kxT100k13)).toMatchObject({
      relation: 'different',
    });
    expect(await judge(matcher(undefined, llm), pmGdpReal, kxGdpNominal)).toMatchObject({
      relation: 'different',
    });
    expect(await judge(matcher(undefined, llm), pmBrti100k, kxBelow100k12)).toMatchObject({
      relation: 'inverted',
      stage: 'rules',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('links only what the LLM confirms: differences, other events, low confidence or no quotes stay undetermined', async () => {
    const cases: [Parameters<typeof judgeEach>[0], string, RegExp][] = [
      [
        () => ({
          relation: 'identical',
          confidence: 0.9,
          resolution_differences: ['A is real GDP; B does not say'],
        }),
        'undetermined',
        /named resolution differences/,
      ],
      [
        () => ({ relation: 'inverted', confidence: 0.9, same_event: false }),
        'undetermined',
        /not the same event/,
      ],
      [
        () => ({ relation: 'identical', confidence: 0.6 }),
        'undetermined',
        /confidence 0.6 is below MATCH_MIN_CONFIDENCE 0.8/,
      ],
      [() => ({ relation: 'different', confidence: 0.9 }), 'undetermined', /without naming a difference/],
      [() => ({ relation: 'undetermined', confidence: 0.3 }), 'undetermined', /do not settle/],
      [
        () => ({ relation: 'different', confidence: 0.9, resolution_differences: ['cut vs hold'] }),
        'different',
        /difference: cut vs hold/,
      ],
      [
        () => ({ relation: 'inverted', confidence: 0.91, reasoning: 'YES of one is NO of the other' }),
        'inverted',
        /YES of one is NO of the other/,
      ],
      [
        (p) => ({
          relation: 'identical',
          confidence: 0.95,
          quotes_a: [questionOf(p.a)],
          quotes_b: ['The Fed will hike.'],
        }),
        'undetermined',
        /quote not found in market B's text/,
      ],
      [
        (p) => ({ relation: 'identical', confidence: 0.95, quotes_a: [questionOf(p.a)], quotes_b: [] }),
        'undetermined',
        /quotes nothing from market B/,
      ],
    ];
    for (const [fn, relation, why] of cases) {
      fake.respond(judgeEach(fn));
      const store = createMemoryMatchStore();
      const d = await judge(matcher(store, judgeClient()), pmFed, kxFed);
      expect(d, String(why)).toMatchObject({ relation, stage: 'llm' });
      expect(d!.reasons.join(' | ')).toMatch(why);
      expect((await store.listReview()).length, String(why)).toBe(relation === 'undetermined' ? 1 : 0);
    }
  });

  it('LLM links below the review mark are traded and also queued for a person', async () => {
    fake.respond(judgeEach(() => ({ relation: 'identical', confidence: 0.85 })));
    const store = createMemoryMatchStore();
    const m = new Matcher({
      store,
      llm: judgeClient(),
      minConfidence: 0.8,
      reviewBelow: 0.9,
      now: () => 42,
      log: silentLogger(),
    });
    await m.onMarket(pmFed);
    const out = await m.onMarket(kxFed);
    expect(out.links.map((l) => [l.relation, l.stage])).toEqual([['identical', 'llm']]);
    expect((await store.listReview()).map((r) => [r.relation, r.confidence, r.quotesA])).toEqual([
      ['identical', 0.85, [pmFed.question]],
    ]);
  });

  it('combinatorial relations keep the orientation of the question (A implies B)', async () => {
    fake.respond(
      judgeEach((p) => ({
        relation: p.a.includes('(venue polymarket') ? 'implies' : 'different',
        same_event: false,
        confidence: 0.9,
      })),
    );
    const d = await judge(matcher(undefined, judgeClient()), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'implies', stage: 'llm' });
    expect(ids(d!)).toEqual(['polymarket:pm-fed-dec', 'kalshi:KXFEDDECISION-26DEC-C25']);
  });

  it('accepts the verdict list as JSON text too', async () => {
    fake.respond((req) =>
      textAnswer(
        '```json\n' +
          JSON.stringify({
            verdicts: promptPairs(req).map((p) => ({
              pair: p.n,
              same_event: true,
              relation: 'identical',
              confidence: 0.9,
              quotes_a: [questionOf(p.a)],
              quotes_b: [questionOf(p.b)],
              resolution_differences: [],
            })),
          }) +
          '\n```',
      ),
    );
    expect(await judge(matcher(undefined, judgeClient()), pmFed, kxFed)).toMatchObject({
      relation: 'identical',
      stage: 'llm',
    });
  });

  it('malformed and refused answers are undetermined, never a link; a refusal is paid once, the rest asked again', async () => {
    const store = createMemoryMatchStore();
    const replies = [
      textAnswer('They look like the same event to me.'),
      toolInput({ verdicts: [{ pair: 1, same_event: 'yes', relation: 'same', confidence: 2 }] }),
      toolInput({ verdicts: [] }),
      toolInput({ something: 'else' }),
      { body: '{not json' },
    ];
    for (const reply of replies) {
      fake.respond(() => reply);
      const m = matcher(store, judgeClient());
      const d = await judge(m, pmFed, kxFed);
      expect(d).toMatchObject({ relation: 'undetermined', stage: 'llm' });
      const out = await m.onMarket({ ...kxFed, version: 'again' });
      expect(out.links).toEqual([]);
    }
    expect(await store.listVerdicts()).toEqual([]);
    fake.respond(() => refusal());
    fresh();
    const d = await judge(matcher(store, judgeClient()), pmFed, kxFed);
    expect(d).toMatchObject({
      relation: 'undetermined',
      stage: 'llm',
      reasons: ['LLM refused to judge the pair'],
    });
    expect(await judge(matcher(store, judgeClient()), pmFed, kxFed)).toMatchObject({
      relation: 'undetermined',
      stage: 'cache',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('retries 429 and 5xx with backoff, and gives up as undetermined when they persist', async () => {
    fresh();
    fake.respond(judgeEach(() => ({ relation: 'identical', confidence: 0.93 })));
    fake.queue(apiError(429, { 'retry-after-ms': '5' }), apiError(529, { 'retry-after-ms': '5' }));
    const d = await judge(matcher(undefined, judgeClient({ maxRetries: 3 })), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'identical', stage: 'llm' });
    expect(fake.requests).toHaveLength(3);
    fresh();
    fake.queue(apiError(500), apiError(500));
    const store = createMemoryMatchStore();
    const failed = await judge(matcher(store, judgeClient({ maxRetries: 1 })), pmFed, kxFed);
    expect(fake.requests).toHaveLength(2);
    expect(failed).toMatchObject({ relation: 'undetermined', stage: 'llm' });
    expect(failed!.reasons[0]).toMatch(/^LLM call failed \(HTTP 500\)/);
    expect(await store.listVerdicts()).toEqual([]);
  });

  it('stops at the daily budget: undetermined with that reason, nothing sent, nothing cached', async () => {
    fake.respond(judgeEach(() => ({ relation: 'identical', confidence: 0.93 })));
    // a budget of 0: never call
    fresh();
    const zero = createMemoryMatchStore();
    const d0 = await judge(matcher(zero, judgeClient({ store: zero, budget: 0 })), pmFed, kxFed);
    expect(d0).toMatchObject({ relation: 'undetermined', stage: 'llm' });
    expect(d0!.reasons[0]).toMatch(/MATCHER_DAILY_BUDGET_USD=0/);
    expect(fake.requests).toHaveLength(0);
    // room for one request, which then costs more than the whole budget (long answers): the next is not sent
    fake.respond((req) => ({
      ...judgeEach(() => ({ relation: 'identical', confidence: 0.93 }))(req),
      outputTokens: 5_000,
    }));
    const store = createMemoryMatchStore();
    const m = matcher(store, judgeClient({ store, budget: 60_000, batchSize: 1 }));
    const ds = await m.decideMany(fedPairs());
    expect(ds.map((d) => d.relation)).toEqual(['identical', 'undetermined', 'undetermined']);
    expect(fake.requests).toHaveLength(1);
    expect(ds[1]!.reasons[0]).toMatch(
      /^LLM daily budget exhausted: \$0\.\d\d of \$0\.06 spent on 1970-01-01 UTC, this request could cost up to \$0\.\d\d \(MATCHER_DAILY_BUDGET_USD\)$/,
    );
    expect((await store.listVerdicts()).length).toBe(1);
    expect((await store.listReview()).length).toBe(2);
  });
});
