import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarketMatcherAgent } from '../../src/agents/market-matcher.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { approveReview, reviewQueue } from '../../src/matcher/review.ts';
import { createMemoryMatchStore } from '../../src/matcher/store.ts';
import { type FakeAnthropic, judgeEach, startFakeAnthropic } from '../fakes/anthropic-server.ts';
import { kxFed, kxT90k12, kxT100k12, pmBinance100k, pmBrti100k, pmFed } from '../matcher/cases.ts';
import { record, testKernel } from '../scanner/kernel.ts';

describe('market matcher agent on the in-process bus', () => {
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic(judgeEach(() => ({ relation: 'identical', confidence: 0.95 })));
  });
  afterAll(() => fake.close());

  it('rules only: publishes oracle links and market links, withholds rejected pairs', async () => {
    const k = testKernel();
    const links = record(k, channels.links);
    const olinks = record(k, channels.oracleLinks);
    const agent = createMarketMatcherAgent({ store: createMemoryMatchStore(), llm: null });
    const run = await startAgents(k, [agent]);
    expect(agent.matcher()!.rulesOnly).toBe(true);
    k.bus.publish(channels.markets('polymarket'), pmBrti100k);
    k.bus.publish(channels.markets('polymarket'), pmBinance100k);
    k.bus.publish(channels.markets('kalshi'), kxT100k12);
    k.bus.publish(channels.markets('kalshi'), kxT90k12);
    await k.bus.idle();
    expect(olinks.map((l) => l.market.marketId).sort()).toEqual(
      [kxT100k12, kxT90k12, pmBinance100k, pmBrti100k].map((m) => m.marketId).sort(),
    );
    const summary = links.map((l) => `${l.a.marketId} ${l.relation} ${l.b.marketId}`).sort();
    expect(summary).toEqual([
      'KXBTCD-26DEC3112-T100000 implies KXBTCD-26DEC3112-T90000',
      'pm-btc-100k-brti identical KXBTCD-26DEC3112-T100000',
      'pm-btc-100k-brti implies KXBTCD-26DEC3112-T90000',
    ]);
    await run.stop();
    await k.bus.close();
  });

  it('picks up a manual reject made while it runs (the CLI edits the store) and withdraws the link', async () => {
    const k = testKernel();
    const links = record(k, channels.links);
    const store = createMemoryMatchStore();
    const run = await startAgents(k, [
      createMarketMatcherAgent({ store, llm: null, overrideRefreshMs: 5_000 }),
    ]);
    k.bus.publish(channels.markets('polymarket'), pmBrti100k);
    k.bus.publish(channels.markets('kalshi'), kxT100k12);
    await k.bus.idle();
    expect(links.map((l) => l.relation)).toEqual(['identical']);
    await store.setOverride({
      a: { venue: 'kalshi', marketId: kxT100k12.marketId },
      b: { venue: 'polymarket', marketId: pmBrti100k.marketId },
      decision: 'reject',
      at: 2,
    });
    k.clock.advanceTo(1_000 + 5_000);
    await new Promise((r) => setImmediate(r)); // the refresh reads the store asynchronously
    await k.bus.idle();
    expect(links.map((l) => [l.relation, l.stage])).toEqual([
      ['identical', 'rules'],
      ['different', 'manual'],
    ]);
    await run.stop();
    await k.bus.close();
  });

  it('queues what it cannot settle; an approval through the review functions becomes a link while it runs', async () => {
    const k = testKernel();
    const links = record(k, channels.links);
    const store = createMemoryMatchStore();
    const run = await startAgents(k, [
      createMarketMatcherAgent({ store, llm: null, overrideRefreshMs: 5_000 }),
    ]);
    k.bus.publish(channels.markets('polymarket'), pmFed);
    k.bus.publish(channels.markets('kalshi'), kxFed);
    await k.bus.idle();
    expect(links).toEqual([]);
    const queue = await reviewQueue(store);
    expect(queue.map((r) => [r.a.marketId, r.b.marketId, r.relation])).toEqual([
      [pmFed.marketId, kxFed.marketId, 'undetermined'],
    ]);
    // what the dashboard's control API does: approve by the queue id
    await approveReview(store, queue[0]!.id, { relation: 'identical', at: 1 });
    k.clock.advanceTo(1_000 + 5_000);
    await new Promise((r) => setImmediate(r));
    await k.bus.idle();
    expect(links.map((l) => [l.relation, l.stage])).toEqual([['identical', 'manual']]);
    expect(await reviewQueue(store)).toEqual([]);
    await run.stop();
    await k.bus.close();
  });

  it('with ANTHROPIC_API_KEY: undetermined pairs go to the LLM (fake Messages API) and link', async () => {
    const k = testKernel({
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: 'claude-test',
    });
    const links = record(k, channels.links);
    const agent = createMarketMatcherAgent({ store: createMemoryMatchStore() });
    const run = await startAgents(k, [agent]);
    expect(agent.matcher()!.rulesOnly).toBe(false);
    k.bus.publish(channels.markets('polymarket'), pmFed);
    k.bus.publish(channels.markets('kalshi'), kxFed);
    await k.bus.idle();
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ relation: 'identical', stage: 'llm', confidence: 0.95 });
    expect(fake.requests.at(-1)!.body.model).toBe('claude-test');
    await run.stop();
    await k.bus.close();
  });
});

describe('market matcher agent with the JSON match file', () => {
  it('writes the links it holds back (long write delay) when it stops: nothing lost on a clean stop', async () => {
    const { mkdtempSync, readFileSync, rmSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createJsonMatchStore } = await import('../../src/matcher/store.ts');
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-agent-json-'));
    const path = join(dir, 'matches.json');
    try {
      const k = testKernel();
      const store = createJsonMatchStore(path, { writeDelayMs: 600_000, recheckMs: 1_000 });
      const run = await startAgents(k, [createMarketMatcherAgent({ store, llm: null })]);
      k.bus.publish(channels.markets('polymarket'), pmBrti100k);
      k.bus.publish(channels.markets('kalshi'), kxT100k12);
      await k.bus.idle();
      // held back by the write delay
      expect(existsSync(path)).toBe(false);
      await run.stop();
      await k.bus.close();
      const links = Object.values(JSON.parse(readFileSync(path, 'utf8')).links) as { relation: string }[];
      expect(links.map((l) => l.relation)).toEqual(['identical']);
      // and a restart reads it back
      expect((await createJsonMatchStore(path).listLinks()).map((l) => l.relation)).toEqual(['identical']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
