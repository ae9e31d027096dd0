/**
 * The store side of exactly-once execution (execution_intents, executor_fences; migration 20) on PGlite and on
 * PostgreSQL (a schema of its own), and the Redis executor lease (a key prefix of its own).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RiskDecision } from '../../src/core/messages.ts';
import { createRedisLease } from '../../src/execution/lease.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { createDbFenceStore, createDbIntentStore } from '../../src/store/intents.ts';
import { migrate } from '../../src/store/migrations.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

const REDIS = 'redis://127.0.0.1:6379';

const decision = (requestId: string): RiskDecision => ({
  type: 'risk_decision',
  id: `d-${requestId}`,
  requestId,
  strategy: 's1',
  verdict: 'approve',
  rule: 'ok',
  reason: '',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 'm1-yes',
      side: 'buy',
      limitPrice: 450_000,
      shares: 10_000_000,
    },
  ],
  tif: 'IOC',
  decidedAt: 1_700_000_000_000,
});

function intentContract(name: string, open: () => Promise<Db>, cleanup: (db: Db) => Promise<void>): void {
  describe(`execution intents (${name})`, () => {
    it('claims once, keeps the decision exactly, fences older lease holders, lists what is unfinished', async () => {
      const db = await open();
      try {
        await migrate(db);
        const store = createDbIntentStore(db, 'paper');
        const d = decision('r1');
        expect(await store.claim(d, { owner: 'a', fence: 1, now: 10 })).toEqual({ outcome: 'new' });
        // a second executor (or a restarted one) finds it taken, with the decision as it was recorded
        const again = await store.claim(d, { owner: 'b', fence: 1, now: 11 });
        expect(again).toMatchObject({
          outcome: 'exists',
          intent: { state: 'claimed', owner: 'a', decision: d },
        });
        // a newer holder moves the fence; the old one is refused, even for a new decision
        expect(await store.advanceFence(2, 'b', 12)).toBe(true);
        expect(await store.claim(decision('r2'), { owner: 'a', fence: 1, now: 13 })).toEqual({
          outcome: 'fenced',
          newest: 2,
        });
        expect(await store.advanceFence(1, 'a', 14)).toBe(false);
        expect(await store.newestFence()).toBe(2);
        // states only move forward; done happens once: the second executor to finish the intent loses
        expect(await store.mark('r1', 'done', 15)).toBe(true);
        expect(await store.mark('r1', 'done', 15)).toBe(false);
        expect(await store.mark('r1', 'submitted', 16)).toBe(false);
        // no intent (a decision never claimed): nobody else can have reported it
        expect(await store.mark('r-none', 'done', 16)).toBe(true);
        expect((await store.claim(d, { owner: 'b', fence: 2, now: 17 })) as unknown).toMatchObject({
          intent: { state: 'done' },
        });
        expect(await store.claim(decision('r3'), { owner: 'b', fence: 2, now: 18 })).toEqual({
          outcome: 'new',
        });
        await store.mark('r3', 'submitted', 19);
        await db.query(
          `INSERT INTO orders (id, request_id, strategy, leg_index, venue, market_id, token_id, side, limit_price, shares,
             filled_shares, tif, status, created_at, updated_at)
           VALUES ('r3.0', 'r3', 's1', 0, 'polymarket', 'm1', 'm1-yes', 'buy', 0.45, 10, 2.5, 'IOC', 'partially_filled', 18, 19)`,
        );
        // r1 is done but its report never reached the store (its executor died before the publish): listed too
        const open1 = await store.unfinished();
        expect(open1.map((i) => [i.requestId, i.state])).toEqual([
          ['r1', 'done'],
          ['r3', 'submitted'],
        ]);
        expect(open1[1]!.legs).toEqual({ 0: { status: 'partially_filled', filledShares: 2_500_000 } });
        // an intent whose ExecutionReport is stored is finished, whatever its row says
        await db.query(
          `INSERT INTO execution_reports (id, request_id, strategy, status, fills, leg_risk_cost, fees, ts)
           VALUES ('e1', 'r3', 's1', 'partial', 1, 0, 0, 20), ('r1.exec', 'r1', 's1', 'failed', 0, 0, 0, 20)`,
        );
        expect(await store.unfinished()).toEqual([]);
        // no lease (one process): nothing is fenced
        expect(await store.claim(decision('r4'), { owner: 'c', fence: undefined, now: 21 })).toEqual({
          outcome: 'new',
        });
        // another account has its own intents and fence
        expect(await createDbIntentStore(db, 'live:kalshi').unfinished()).toEqual([]);
        // the guardian's fence: a decision older than the newest guardian's token is not executed; the refusal is the
        // request's end (a done intent: its report is this executor's to publish), unless another decision of the
        // request was taken first (its report ends it)
        const guardians = createDbFenceStore(db);
        expect(await guardians.advance(3, 'g2', 22)).toBe(true);
        expect(await guardians.advance(2, 'g1', 23)).toBe(false);
        expect(await guardians.newest()).toBe(3);
        expect(await store.claim({ ...decision('r5'), fence: 2 }, { owner: 'b', fence: 2, now: 24 })).toEqual(
          { outcome: 'staleDecision', newest: 3, refused: true },
        );
        expect(
          await store.claim({ ...decision('r5'), fence: 3 }, { owner: 'b', fence: 2, now: 25 }),
        ).toMatchObject({ outcome: 'exists', intent: { state: 'done', decision: { fence: 2 } } });
        expect(await store.claim({ ...decision('r6'), fence: 3 }, { owner: 'b', fence: 2, now: 26 })).toEqual(
          {
            outcome: 'new',
          },
        );
        expect(await store.claim({ ...decision('r6'), fence: 2 }, { owner: 'b', fence: 2, now: 27 })).toEqual(
          { outcome: 'staleDecision', newest: 3, refused: false },
        );
        // a refusal whose report never reached the store is listed, so the next executor publishes it
        expect((await store.unfinished()).map((i) => [i.requestId, i.state])).toEqual([
          ['r4', 'claimed'],
          ['r5', 'done'],
          ['r6', 'claimed'],
        ]);
        expect(await store.newestFence()).toBe(2); // the executor's own fence is apart from the guardian's
      } finally {
        await cleanup(db);
        await db.close();
      }
    }, 120_000);
  });
}

intentContract(
  'PGlite',
  () => openDb({ dataDir: 'memory://' }),
  async () => {},
);
const schema = testSchema('intents');
intentContract(
  'PostgreSQL',
  () => openDb({ url: TEST_PG_URL, schema }),
  async (db) => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`);
  },
);

describe('execution intents (PostgreSQL): an executor paused inside a claim', () => {
  const pausedSchema = testSchema('intents_paused');
  it('does not stall the others: PostgreSQL ends its idle transaction, and nothing of its claim is written', async () => {
    const db = await openDb({ url: TEST_PG_URL, schema: pausedSchema });
    const other = await openDb({ url: TEST_PG_URL, schema: pausedSchema });
    let resume!: () => void;
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    let stopped!: () => void;
    const atStop = new Promise<void>((r) => {
      stopped = r;
    });
    try {
      await migrate(db);
      // its transactions stop, as a SIGSTOPped process does, after the fence check (its row locked) and before the
      // intent is written
      const pausing: Db = {
        ...db,
        transaction: (fn) =>
          db.transaction((tx) =>
            fn({
              ...tx,
              async query(sql, params) {
                if (sql.includes('INSERT INTO execution_intents')) {
                  stopped();
                  await resumed;
                }
                return tx.query(sql, params);
              },
            }),
          ),
      };
      const claim = createDbIntentStore(pausing, 'paper').claim(decision('p1'), {
        owner: 'a',
        fence: 1,
        now: 1,
      });
      claim.catch(() => {}); // awaited below
      await atStop;
      // the next lease holder takes over and claims while the paused one still has its transaction open
      const store = createDbIntentStore(other, 'paper');
      expect(await store.advanceFence(2, 'b', 2)).toBe(true);
      expect(await store.claim(decision('p2'), { owner: 'b', fence: 2, now: 3 })).toEqual({ outcome: 'new' });
      // resumed: its session is gone, so its claim fails (the decision stays unacked) and wrote nothing
      resume();
      await expect(claim).rejects.toThrow();
      expect(await store.claim(decision('p1'), { owner: 'b', fence: 2, now: 4 })).toEqual({ outcome: 'new' });
      expect(await store.newestFence()).toBe(2);
    } finally {
      resume();
      await other.exec(`DROP SCHEMA IF EXISTS ${pausedSchema} CASCADE`);
      await other.close();
      await db.close();
    }
  }, 60_000);
});

describe('the Redis executor lease', () => {
  const prefix = `test:lease:${process.pid}:${randomBytes(4).toString('hex')}:`;
  afterAll(async () => {
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
    await r.quit();
  });

  it('one lease per role: the guardian lease is apart from the executor lease', async () => {
    const mk = (role: string | undefined, owner: string) =>
      createRedisLease({
        url: REDIS,
        keyPrefix: prefix,
        role,
        account: 'x',
        owner,
        ttlMs: 5_000,
        now: Date.now,
      });
    const ex = mk(undefined, 'e');
    const g1 = mk('risk-guardian', 'g1');
    const g2 = mk('risk-guardian', 'g2');
    try {
      expect(await ex.acquire()).toBe(1);
      expect(await g1.acquire()).toBe(1);
      expect(await g2.acquire()).toBeUndefined();
      expect(g1.name).toContain('pmarb.lease.risk-guardian.x');
    } finally {
      for (const l of [ex, g1, g2]) {
        await l.release();
        await l.close();
      }
    }
  });

  it('one holder at a time; a lapsed holder cannot renew and the next one has a larger fencing token', async () => {
    const ttlMs = 300;
    const mk = (owner: string) =>
      createRedisLease({ url: REDIS, keyPrefix: prefix, account: 'paper', owner, ttlMs, now: Date.now });
    const a = mk('a');
    const b = mk('b');
    try {
      const ta = await a.acquire();
      expect(ta).toBeGreaterThan(0);
      expect(a.validAt(Date.now())).toBe(true);
      expect(await b.acquire()).toBeUndefined();
      expect(await a.renew()).toBe(true);
      // a stops renewing (SIGSTOP): the key expires, b takes it
      let tb: number | undefined;
      const deadline = Date.now() + 10_000;
      while (tb === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        tb = await b.acquire();
      }
      expect(tb).toBeGreaterThan(ta!);
      expect(a.validAt(Date.now())).toBe(false); // its own clock says lapsed
      expect(await a.renew()).toBe(false);
      // a graceful stop hands it over at once
      await b.release();
      expect(await a.acquire()).toBeGreaterThan(tb!);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
