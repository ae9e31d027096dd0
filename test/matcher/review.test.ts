/**
 * The review queue functions and the match stores behind them: the same suite on memory, the JSON file, PGlite
 * and PostgreSQL (migration 3: review queue, LLM spending, quotes and costs per verdict).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import type { Market, MarketLink } from '../../src/core/messages.ts';
import { Matcher } from '../../src/matcher/matcher.ts';
import {
  approvePair,
  approveReview,
  findReview,
  ReviewError,
  rejectReview,
  reviewId,
  reviewQueue,
} from '../../src/matcher/review.ts';
import {
  briefOf,
  createJsonMatchStore,
  createMemoryMatchStore,
  type MatchStore,
  NO_SPEND,
  overlayMatchStore,
  pairKey,
  type StoredVerdict,
  WRITE_BYTES_PER_MS,
  writeStateJson,
} from '../../src/matcher/store.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { createSqlMatchStore } from '../../src/store/match-store.ts';
import { migrate } from '../../src/store/migrations.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';
import { kalshi, pm, pmFed } from './cases.ts';

const kxRain = kalshi(
  'KXRAIN-26DEC',
  'Will it rain in Chicago in December 2026?',
  'If rain is recorded, Yes.',
  '2026-12-31T00:00:00Z',
);

const nominee = (name: string, i: number): [Market, Market] => [
  pm(
    `pm-nom-${i}`,
    `Will ${name} win the 2028 Democratic presidential nomination?`,
    `Resolves Yes if ${name} is nominated.`,
    '2028-08-20T00:00:00Z',
  ),
  kalshi(
    `KXDEMNOM-28-${i}`,
    `Will ${name} be the Democratic Presidential nominee in 2028?`,
    `If ${name} is the nominee, Yes.`,
    '2028-08-01T00:00:00Z',
    {
      subtitle: name,
    },
  ),
];

interface Target {
  readonly name: string;
  open(): Promise<{ store: MatchStore; close(): Promise<void> }>;
}

function suite(t: Target): void {
  describe(`review queue on ${t.name}`, () => {
    let store: MatchStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await t.open());
    }, 60_000);
    afterAll(() => close());

    it('queues what the rules cannot settle, lists it most alike first, and approves or rejects by short id', async () => {
      const m = new Matcher({ store, minConfidence: 0.8, now: () => 1_000, log: silentLogger() });
      await m.init();
      // a close pair, and two loosely related texts
      await m.decideMany([nominee('Dana Cole', 1), [pmFed, kxRain]]);
      const queue = await reviewQueue(store);
      expect(queue.map((r) => [r.a.marketId, r.b.marketId, r.relation, r.stage])).toEqual([
        ['pm-nom-1', 'KXDEMNOM-28-1', 'undetermined', 'rules'],
        [pmFed.marketId, kxRain.marketId, 'undetermined', 'rules'],
      ]);
      const first = queue[0]!;
      expect(first.id).toBe(reviewId(first.a, first.b));
      expect(first.id).toMatch(/^r-[0-9a-f]{8}$/);
      expect(first.similarity).toBeGreaterThan(queue[1]!.similarity);
      expect(first.b).toMatchObject({ subtitle: 'Dana Cole', rules: 'If Dana Cole is the nominee, Yes.' });
      expect(await findReview(store, first.key)).toMatchObject({ id: first.id });

      const ok = await approveReview(store, first.id, {
        relation: 'identical',
        note: 'same nominee',
        at: 2_000,
      });
      expect(ok).toMatchObject({
        decision: 'approve',
        relation: 'identical',
        note: 'same nominee',
        at: 2_000,
      });
      const no = await rejectReview(store, queue[1]!.id, { at: 2_001 });
      expect(no).toMatchObject({ decision: 'reject', at: 2_001 });
      expect(await reviewQueue(store)).toEqual([]);
      expect((await store.listOverrides()).map((o) => o.decision).sort()).toEqual(['approve', 'reject']);

      // the matcher honours the decisions
      await m.refreshOverrides();
      const again = await m.decideMany([nominee('Dana Cole', 1), [pmFed, kxRain]]);
      expect(again.map((d) => [d.relation, d.stage])).toEqual([
        ['identical', 'manual'],
        ['different', 'manual'],
      ]);
      expect(await reviewQueue(store)).toEqual([]);
    });

    it('explains what is wrong: an unknown id, a relation that is not a link', async () => {
      await expect(approveReview(store, 'r-00000000', { at: 1 })).rejects.toThrow(ReviewError);
      await expect(approveReview(store, 'r-00000000', { at: 1 })).rejects.toThrow(/pm-arb matches --review/);
      await expect(
        approvePair(
          store,
          { venue: 'polymarket', marketId: 'x' },
          { venue: 'kalshi', marketId: 'y' },
          {
            relation: 'different',
            at: 1,
          },
        ),
      ).rejects.toThrow(/identical, inverted, implies or exclusive/);
    });

    it('keeps verdicts with quotes, tokens and cost, and adds up the LLM spending per day exactly', async () => {
      const v: StoredVerdict = {
        key: 'k-cost',
        a: { venue: 'polymarket', marketId: 'pa' },
        b: { venue: 'kalshi', marketId: 'KB' },
        aVersion: 'v1',
        bVersion: 'v2',
        relation: 'identical',
        confidence: 0.93,
        stage: 'llm',
        reasons: ['same decision'],
        sameEvent: true,
        differences: [],
        quotesA: ['Resolves Yes if the FOMC cuts.'],
        quotesB: ['If the Federal Reserve cuts, Yes.'],
        usage: {
          model: 'claude-sonnet-4-5',
          inputTokens: 1_234,
          outputTokens: 56,
          cacheReadTokens: 900,
          cacheWriteTokens: 0,
          costMicro: 4_813,
          batchSize: 3,
        },
        decidedAt: 5,
      };
      await store.putVerdict(v);
      await store.putVerdict({
        ...v,
        key: 'k-refused',
        relation: 'undetermined',
        failure: 'LLM refused',
        usage: undefined,
      } as never);
      expect(await store.getVerdict('k-cost')).toEqual(v);
      expect(await store.getVerdict('k-refused')).toMatchObject({
        failure: 'LLM refused',
        relation: 'undetermined',
      });
      const one = {
        requests: 1,
        inputTokens: 10,
        outputTokens: 5,
        cacheReadTokens: 3,
        cacheWriteTokens: 2,
        costMicro: 1_000_001,
      };
      await store.addLlmSpend('2026-08-19', one);
      await store.addLlmSpend('2026-08-19', one);
      await store.addLlmSpend('2026-08-20', one);
      expect(await store.llmSpend('2026-08-19')).toEqual({
        requests: 2,
        inputTokens: 20,
        outputTokens: 10,
        cacheReadTokens: 6,
        cacheWriteTokens: 4,
        costMicro: 2_000_002,
      });
      expect((await store.llmSpend('2026-01-01')).costMicro).toBe(0);
    });

    it('replaces a queued pair and removes it', async () => {
      const [a, b] = nominee('Kim Sato', 9);
      const item = {
        key: pairKey(a, b),
        a: briefOf(a),
        b: briefOf(b),
        relation: 'identical' as const,
        confidence: 0.82,
        stage: 'llm' as const,
        reasons: ['LLM: same nominee'],
        quotesA: [a.question],
        quotesB: [b.question],
        queuedAt: 7,
      };
      await store.putReview(item);
      await store.putReview({ ...item, confidence: 0.85 });
      expect(await store.listReview()).toEqual([{ ...item, confidence: 0.85 }]);
      // an LLM link at 0.85 is listed below 0.9, not below 0.8
      expect((await reviewQueue(store, { below: 0.9 })).map((r) => r.key)).toEqual([item.key]);
      expect(await reviewQueue(store, { below: 0.8 })).toEqual([]);
      await store.removeReview(item.key);
      expect(await store.listReview()).toEqual([]);
    });
  });
}

suite({ name: 'memory', open: async () => ({ store: createMemoryMatchStore(), close: async () => {} }) });

let dir = '';
suite({
  name: 'the JSON file',
  open: async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmarb-review-'));
    const s = createJsonMatchStore(join(dir, 'matches.json'));
    return {
      store: s,
      close: async () => {
        s.flush();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

suite({
  name: 'PGlite',
  open: async () => {
    const db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    return { store: createSqlMatchStore(db), close: () => db.close() };
  },
});

const schema = testSchema('review');
suite({
  name: 'PostgreSQL',
  open: async () => {
    const db: Db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    return {
      store: createSqlMatchStore(db),
      close: async () => {
        await db.exec(`DROP SCHEMA ${schema} CASCADE`);
        await db.close();
      },
    };
  },
});

describe('the JSON match store across processes', () => {
  it('writes changes together, reads what another writer replaced, and merges its own pending changes', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pmarb-json-'));
    const path = join(d, 'matches.json');
    try {
      const agent = createJsonMatchStore(path, { writeDelayMs: 60_000 });
      const cli = createJsonMatchStore(path);
      const [a, b] = nominee('Lena Ortiz', 3);
      await agent.putLink({
        type: 'link',
        a,
        b,
        relation: 'identical',
        confidence: 1,
        stage: 'manual',
        reasons: [],
        decidedAt: 1,
      } as never);
      // nothing written yet: the agent batches its writes
      expect(await cli.listLinks()).toEqual([]);
      await cli.setOverride({ a, b, decision: 'reject', at: 3 });
      cli.flush();
      // the agent sees the CLI's override, and keeps its own pending link
      expect((await agent.listOverrides()).map((o) => o.decision)).toEqual(['reject']);
      agent.flush();
      const onDisk = JSON.parse(readFileSync(path, 'utf8')) as { overrides: unknown[]; links: object };
      expect(onDisk.overrides).toHaveLength(1);
      expect(Object.keys(onDisk.links)).toEqual([pairKey(a, b)]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('streams the file entry by entry, byte for byte what one JSON.stringify of the state wrote', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pmarb-json-'));
    const path = join(d, 'matches.json');
    try {
      const s = createJsonMatchStore(path, { writeDelayMs: 60_000 });
      const [a, b] = nominee('Zoë "Quoted" Lin\nsecond line', 5);
      const [c, e] = nominee('Ana Ruiz', 6);
      for (const [x, y, rel] of [
        [a, b, 'identical'],
        [c, e, 'implies'],
      ] as const) {
        await s.putLink({
          type: 'link',
          a: x,
          b: y,
          relation: rel,
          confidence: 0.95,
          stage: 'rules',
          reasons: ['same asset', 'strike ≥ — ünïcode'],
          decidedAt: 7,
        } as never);
      }
      await s.setOverride({
        a,
        b,
        decision: 'approve',
        relation: 'identical',
        at: 9,
        note: 'checked\tby hand',
      });
      await s.addLlmSpend('2026-12-03', { ...NO_SPEND, requests: 2, costMicro: 1234 });
      s.flush();
      const text = readFileSync(path, 'utf8');
      const state = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(state.links as object)).toHaveLength(2);
      expect(text).toBe(`${JSON.stringify(state, null, 1)}\n`);
      // an empty state too
      const empty = join(d, 'empty.json');
      const fd = openSync(empty, 'w');
      writeStateJson(fd, { verdicts: {}, overrides: [], links: {}, review: {}, spend: {} } as never);
      closeSync(fd);
      const t2 = readFileSync(empty, 'utf8');
      expect(t2).toBe(`${JSON.stringify(JSON.parse(t2), null, 1)}\n`);
      expect(JSON.parse(t2)).toEqual({
        version: 1,
        verdicts: {},
        overrides: [],
        links: {},
        review: {},
        spend: {},
      });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('keeps everything across a restart: links (any number of reasons), verdicts, overrides, review, spending', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pmarb-json-'));
    const path = join(d, 'matches.json');
    try {
      const s = createJsonMatchStore(path, { writeDelayMs: 60_000, recheckMs: 1_000 });
      const put: MarketLink[] = [];
      for (const [i, reasons] of [[], ['one'], ['one', 'two "quoted"\n']].entries()) {
        const [a, b] = nominee(`Restart ${i}`, 10 + i).map((m) => ({ venue: m.venue, marketId: m.marketId }));
        const l: MarketLink = {
          type: 'link',
          a: a!,
          b: b!,
          relation: i === 1 ? 'inverted' : 'identical',
          confidence: 0.875,
          stage: 'rules',
          reasons,
          decidedAt: 1_000 + i,
        };
        put.push(l);
        await s.putLink(l);
      }
      const [a, b] = nominee('Restart 0', 10);
      await s.setOverride({ a: a!, b: b!, decision: 'approve', at: 5 });
      await s.addLlmSpend('2026-12-04', { ...NO_SPEND, requests: 1, costMicro: 77 });
      await s.forgetPairs([pairKey(put[1]!.a, put[1]!.b)]);
      s.flush();
      // the links written out by hand are what the generic stringify wrote (0, 1 and 2 reasons)
      const text = readFileSync(path, 'utf8');
      expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 1)}\n`);
      const r = createJsonMatchStore(path);
      expect(await r.listLinks()).toEqual([put[0], put[2]]);
      expect(await r.listOverrides()).toEqual(await s.listOverrides());
      expect((await r.llmSpend('2026-12-04')).costMicro).toBe(77);
      // a restart that changes one link writes the others back unchanged
      await r.putLink({ ...put[0]!, decidedAt: 9_999 });
      r.flush();
      expect(await createJsonMatchStore(path).listLinks()).toEqual([
        { ...put[0]!, decidedAt: 9_999 },
        put[2],
      ]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('does not rewrite the file when nothing changed (the same link again, or a flush with nothing pending)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pmarb-json-'));
    const path = join(d, 'matches.json');
    try {
      const s = createJsonMatchStore(path, { writeDelayMs: 60_000 });
      const [a, b] = nominee('Same Again', 3).map((m) => ({ venue: m.venue, marketId: m.marketId }));
      const l: MarketLink = {
        type: 'link',
        a: a!,
        b: b!,
        relation: 'identical',
        confidence: 1,
        stage: 'rules',
        reasons: ['same'],
        decidedAt: 1,
      };
      await s.putLink(l);
      s.flush();
      const first = statSync(path);
      s.flush();
      // a new copy of the same link: no write
      await s.putLink({ ...l, a: { ...l.a }, b: { ...l.b }, reasons: [...l.reasons] });
      s.flush();
      const again = statSync(path);
      // every write is a new file renamed over the old one: the same inode and mtime mean no write
      expect([again.ino, again.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
      await s.putLink({ ...l, decidedAt: 2 });
      s.flush();
      expect(statSync(path).ino).not.toBe(first.ino);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('waits longer between writes as the file grows (1 ms per WRITE_BYTES_PER_MS bytes of the last write)', async () => {
    vi.useFakeTimers();
    const d = mkdtempSync(join(tmpdir(), 'pmarb-json-'));
    const path = join(d, 'matches.json');
    try {
      const s = createJsonMatchStore(path, { writeDelayMs: 100 });
      const link = (i: number) =>
        ({
          type: 'link',
          ...Object.fromEntries(nominee(`Person ${i}`, i).map((r, k) => [k ? 'b' : 'a', r])),
          relation: 'identical',
          confidence: 1,
          stage: 'rules',
          reasons: ['x'.repeat(500)],
          decidedAt: i,
        }) as never;
      for (let i = 0; i < 200; i++) await s.putLink(link(i));
      vi.advanceTimersByTime(100);
      const size = statSync(path).size;
      expect(size).toBeGreaterThan(100_000);
      await s.putLink(link(999));
      const extra = Math.floor(size / WRITE_BYTES_PER_MS);
      vi.advanceTimersByTime(100 + extra - 1);
      expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).links)).toHaveLength(200);
      vi.advanceTimersByTime(1);
      expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).links)).toHaveLength(201);
    } finally {
      vi.useRealTimers();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('an overlay reads the live store and writes only its own', async () => {
    const live = createMemoryMatchStore();
    const audit = createMemoryMatchStore();
    const [a, b] = nominee('Omar Haddad', 4);
    await live.setOverride({ a, b, decision: 'approve', at: 1 });
    await live.addLlmSpend('2026-08-19', {
      requests: 1,
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costMicro: 7,
    });
    const o = overlayMatchStore(live, audit);
    expect(await o.listOverrides()).toHaveLength(1);
    await o.addLlmSpend('2026-08-19', {
      requests: 1,
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costMicro: 5,
    });
    await o.setOverride({ a, b, decision: 'reject', at: 2 });
    expect((await o.llmSpend('2026-08-19')).costMicro).toBe(12);
    expect((await o.listOverrides()).map((x) => x.decision)).toEqual(['reject']);
    expect((await live.listOverrides()).map((x) => x.decision)).toEqual(['approve']);
    expect((await live.llmSpend('2026-08-19')).costMicro).toBe(7);
  });
});
