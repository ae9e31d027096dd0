import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import type { Market } from '../../src/core/messages.ts';
import { createAnthropicJudge } from '../../src/matcher/llm.ts';
import { type MatchDecision, Matcher } from '../../src/matcher/matcher.ts';
import { createJsonMatchStore, createMemoryMatchStore, type MatchStore } from '../../src/matcher/store.ts';
import {
  apiError,
  type FakeAnthropic,
  refusal,
  startFakeAnthropic,
  textAnswer,
  toolAnswer,
} from '../fakes/anthropic-server.ts';
import {
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
    const d = await judge(matcher(), pmBrtiNoHourInTitle, kxT100k13);
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

  it('unstated units are undetermined, never identical', async () => {
    const d = await judge(matcher(), pmGdpReal, kxGdpUnstated);
    expect(d).toMatchObject({ relation: 'different', stage: 'rules' });
    expect(d!.reasons[0]).toBe('undetermined');
    expect(d!.reasons.join(' ')).toMatch(/nominal or real not stated/);
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

  it('text-only pairs are undetermined without an LLM', async () => {
    const d = await judge(matcher(), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'different', stage: 'rules', confidence: 0 });
    expect(d!.reasons[0]).toBe('undetermined');
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

  it('a manual approve overrides an undetermined pair', async () => {
    const store = createMemoryMatchStore();
    await store.setOverride({
      a: { venue: 'polymarket', marketId: pmFed.marketId },
      b: { venue: 'kalshi', marketId: kxFed.marketId },
      decision: 'approve',
      at: 1,
    });
    const m = matcher(store);
    await m.init();
    const d = await judge(m, pmFed, kxFed);
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
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dir = mkdtempSync(join(tmpdir(), 'pmarb-match-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const judgeClient = () =>
    createAnthropicJudge({
      apiKey: 'test-key',
      baseUrl: fake.url,
      model: 'claude-test',
      log: silentLogger(),
      maxRetries: 0,
    });

  it('asks once, links, and answers from the durable cache afterwards (same versions)', async () => {
    fake.requests.length = 0;
    fake.respond(() =>
      toolAnswer({
        same_event: true,
        relation: 'identical',
        resolution_differences: [],
        confidence: 0.93,
        reasoning: 'Both resolve on the December 2026 FOMC decision.',
      }),
    );
    const path = join(dir, 'matches.json');
    const d1 = await judge(matcher(createJsonMatchStore(path), judgeClient()), pmFed, kxFed);
    expect(d1).toMatchObject({ relation: 'identical', stage: 'llm', confidence: 0.93 });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.body.model).toBe('claude-test');
    expect(req.body.tool_choice).toEqual({ type: 'tool', name: 'report_match_verdict' });
    expect(req.body.messages[0].content).toContain('Fed cuts interest rates in December 2026?');
    expect(String(req.headers['x-api-key'] ?? req.headers.authorization)).toMatch(/test-key/);
    // a new process reading the same file: no second call
    const d2 = await judge(matcher(createJsonMatchStore(path), judgeClient()), pmFed, kxFed);
    expect(d2).toMatchObject({ relation: 'identical', stage: 'cache' });
    expect(fake.requests).toHaveLength(1);
    // a new market version is asked again
    await judge(matcher(createJsonMatchStore(path), judgeClient()), pmFed, { ...kxFed, version: 'v2' });
    expect(fake.requests).toHaveLength(2);
  });

  it('never asks the LLM about pairs the rules already told apart', async () => {
    fake.requests.length = 0;
    fake.respond(() =>
      toolAnswer({ same_event: true, relation: 'identical', resolution_differences: [], confidence: 1 }),
    );
    const llm = judgeClient();
    expect(await judge(matcher(undefined, llm), pmBinance100k, kxT100k12)).toMatchObject({
      relation: 'different',
      stage: 'rules',
    });
    expect(await judge(matcher(undefined, llm), pmBrtiNoHourInTitle, kxT100k13)).toMatchObject({
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

  it('hands undetermined pairs (unstated GDP units) to the LLM, which may say inverted or different', async () => {
    fake.respond(() =>
      toolAnswer({
        same_event: true,
        relation: 'identical',
        resolution_differences: ['A is real GDP; B does not say whether real or nominal'],
        confidence: 0.7,
      }),
    );
    const d = await judge(matcher(undefined, judgeClient()), pmGdpReal, kxGdpUnstated);
    expect(d).toMatchObject({ relation: 'different', stage: 'llm' });
    expect(d!.reasons).toContain('resolution rules differ');
    fake.respond(() =>
      toolAnswer({ same_event: true, relation: 'inverted', resolution_differences: [], confidence: 0.91 }),
    );
    const inv = await judge(matcher(undefined, judgeClient()), pmFed, kxFed);
    expect(inv).toMatchObject({ relation: 'inverted', stage: 'llm' });
  });

  it('combinatorial relations from the LLM keep the orientation of the question (A implies B)', async () => {
    fake.respond((req) => {
      const text = String(req.body.messages[0].content);
      // the prompt names market A first
      const aIsPm = text.indexOf('venue polymarket') < text.indexOf('venue kalshi');
      return toolAnswer({
        same_event: false,
        relation: aIsPm ? 'implies' : 'different',
        resolution_differences: [],
        confidence: 0.9,
      });
    });
    const d = await judge(matcher(undefined, judgeClient()), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'implies', stage: 'llm' });
    expect(ids(d!)).toEqual(['polymarket:pm-fed-dec', 'kalshi:KXFEDDECISION-26DEC-C25']);
  });

  it('applies the confidence threshold', async () => {
    fake.respond(() =>
      toolAnswer({ same_event: true, relation: 'identical', resolution_differences: [], confidence: 0.6 }),
    );
    const d = await judge(matcher(undefined, judgeClient(), 0.8), pmFed, kxFed);
    expect(d).toMatchObject({ relation: 'different', stage: 'llm', confidence: 0.6 });
    expect(d!.reasons).toContain('confidence 0.6 below 0.8');
  });

  it('accepts a JSON text answer too', async () => {
    fake.respond(() =>
      textAnswer(
        '```json\n{"same_event": true, "relation": "identical", "resolution_differences": [], "confidence": 0.9}\n```',
      ),
    );
    expect(await judge(matcher(undefined, judgeClient()), pmFed, kxFed)).toMatchObject({
      relation: 'identical',
      stage: 'llm',
    });
  });

  it('malformed, refused and failed answers give no link and no crash, and are not cached', async () => {
    const store = createMemoryMatchStore();
    for (const reply of [
      textAnswer('They look like the same event to me.'),
      toolAnswer({ same_event: 'yes', relation: 'same', confidence: 2 }),
      refusal(),
      apiError(500),
      { body: '{not json' },
    ]) {
      fake.respond(() => reply);
      const m = matcher(store, judgeClient());
      const d = await judge(m, pmFed, kxFed);
      expect(d).toMatchObject({ relation: 'different', stage: 'llm' });
      const out = await m.onMarket({ ...kxFed, version: 'again' });
      expect(out.links).toEqual([]);
    }
    expect(await store.listVerdicts()).toEqual([]);
  });
});
