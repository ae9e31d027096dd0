/**
 * Chaos: the whole system as separate processes (`pm-arb agent <name>`, simulated feeds) on a private Redis (its
 * own redis-server, AOF on) and PostgreSQL (its own schema). Mid-stream each trading agent — risk guardian,
 * executor, strategy runner — is SIGKILLed once and started again; one executor of two in the group is SIGSTOPped
 * for longer than the visibility timeout and resumed; Redis is killed and restarted once. After each fault, trade
 * requests made after it must be approved and filled (the pipeline runs again end to end: the bankroll is large
 * enough that no loss budget runs out within the run). Then the feeds stop,
 * the system drains and stops, and `pm-arb audit --json` must find nothing lost or doubled and the limits held:
 * every published fill stored, ledger = positions = cash, orders = their fills, open orders within the limit, no
 * decision executed twice and no request approved twice.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Channel, channels } from '../../src/core/channels.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import {
  killAll,
  type Proc,
  type RedisServer,
  spawnAgent,
  spawnPmArb,
  startRedisServer,
  until,
} from '../helpers/procs.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

/** Short, so a paused executor's decisions go to the other one within the test. */
const VISIBILITY_MS = 3_000;
const LEASE_MS = 3_000;
const MAX_OPEN_ORDERS = 20;
/**
 * A step of the scenario waits at most this long for its condition. Generous: in `npm test` this file runs beside
 * ~145 others on two cores, and every agent is a Node process of its own.
 */
const STEP_MS = 120_000;
/** A step after a fault waits this long for progress before it is recorded as failed and the scenario goes on. */
const PROGRESS_MS = 90_000;
/** Once a step has failed the test fails anyway: later steps wait only this long, to reach the audit soon. */
const AFTER_FAILURE_MS = 15_000;
/**
 * The bankroll, in dollars. Positions do not settle within the run, so each strategy's swing only grows, and the
 * guardian bounds it by the strategy's allocation (strategy_loss_budget): 5% of the bankroll on probation, which
 * no strategy leaves here. A request is at most 1,000 shares (the strategies' maxShares, under $1,000), so at
 * $5,000,000 a strategy's $250,000 holds hundreds of full requests — far more than the run makes — and the
 * drawdown, daily-loss, position and platform limits (percentages of it) are as far away. At $50,000 the
 * $2,500 allocations were spent a few requests in, and a loaded run saw nearly every request after the Redis
 * restart rejected: what a step waits for must be the faulted agent, never a budget used up.
 */
const BANKROLL_USD = 5_000_000;
/** When set, every process's output (its last 8 MiB) is written there at the end, passed or failed. */
const LOG_DIR = process.env.PMARB_CHAOS_LOG_DIR;

/** A process's log for a failure message: Redis write retries (one a line while it is down) counted, not shown. */
function logTail(text: string, chars: number): string {
  const lines = text.split('\n');
  const retries = lines.filter((l) => l.includes('redis write failed; retrying')).length;
  const kept = lines.filter((l) => !l.includes('redis write failed; retrying')).join('\n');
  return `${retries > 0 ? `(${retries} "redis write failed; retrying" lines left out)\n` : ''}${kept.slice(-chars)}`;
}

interface AuditJson {
  ok: boolean;
  checks: { name: string; ok: boolean; skipped?: string; summary: string; problems: string[] }[];
}

describe('chaos: agent processes on Redis and PostgreSQL, killed, paused and Redis restarted', () => {
  const schema = testSchema('chaos');
  const prefix = `chaos:${randomBytes(4).toString('hex')}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-arb-chaos-'));
  const procs: Proc[] = [];
  let redisServer: RedisServer;
  let redis: Redis;
  let db: Db;
  let env: NodeJS.ProcessEnv;
  const t0 = Date.now();
  const events: string[] = [];
  const note = (what: string): void => {
    events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  };

  const client = (): Redis => {
    const c = new Redis(redisServer.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    c.on('error', () => {}); // down while the test restarts it: commands wait for the reconnect
    return c;
  };

  beforeAll(async () => {
    redisServer = await startRedisServer();
    db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    redis = client();
    env = {
      ...process.env,
      REDIS_URL: redisServer.url,
      REDIS_KEY_PREFIX: prefix,
      REDIS_VISIBILITY_TIMEOUT_MS: String(VISIBILITY_MS),
      DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      DATA_DIR: dataDir,
      MAX_OPEN_ORDERS: String(MAX_OPEN_ORDERS),
      // large against what the run trades (see BANKROLL_USD): a step's progress shows the faulted agent back
      INITIAL_BANKROLL: String(BANKROLL_USD),
      LOG_LEVEL: 'warn',
      // offline: rules-only matching, no metrics ports
      ANTHROPIC_API_KEY: '',
      METRICS_PORT: '',
    };
  }, STEP_MS);

  afterAll(async () => {
    await killAll(procs);
    if (LOG_DIR) {
      mkdirSync(LOG_DIR, { recursive: true });
      for (const p of procs) writeFileSync(join(LOG_DIR, `${p.name}.log`), p.out() + p.err());
      writeFileSync(join(LOG_DIR, 'redis-server.log'), redisServer?.log() ?? '');
      writeFileSync(join(LOG_DIR, 'timeline.log'), events.join('\n'));
    }
    redis?.disconnect();
    await redisServer?.close();
    if (db) {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const start = (name: string, agent: string, opts: Record<string, string> = {}): Proc => {
    // the executors say when they take or lose the lease (info)
    const own = agent === 'executor' ? { ...env, LOG_LEVEL: 'info' } : env;
    const p = spawnAgent(name, agent, opts, {
      env: own,
      heartbeatMs: 1000,
      keep: LOG_DIR ? 8 << 20 : undefined,
    });
    procs.push(p);
    note(`start ${name} (pid ${p.pid})`);
    return p;
  };
  const len = async (ch: Channel<unknown>): Promise<number> => redis.xlen(prefix + ch.name);
  /** Bodies on a stream after entry `after` (a stream id; '-' for all). */
  const bodies = async <T>(ch: Channel<T>, after = '-'): Promise<T[]> => {
    const from = after === '-' ? '-' : `(${after}`;
    const entries = (await redis.xrange(prefix + ch.name, from, '+')) as [string, string[]][];
    return entries.map(([, f]) => JSON.parse(f[f.indexOf('d') + 1]!) as T);
  };
  const lastId = async (ch: Channel<unknown>): Promise<string> => {
    const e = (await redis.xrevrange(prefix + ch.name, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return e[0]?.[0] ?? '0-0';
  };
  /** Verdicts and rules of the decisions after `after`, e.g. "reject/unknown_market 12, approve/ok 3". */
  const verdicts = async (after = '-'): Promise<string> => {
    const n = new Map<string, number>();
    for (const d of await bodies(channels.riskDecisions, after))
      n.set(`${d.verdict}/${d.rule}`, (n.get(`${d.verdict}/${d.rule}`) ?? 0) + 1);
    return [...n].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  };
  /** What went wrong after the faults: each step is recorded and the scenario goes on, to the audit. */
  const failures: string[] = [];
  const soft = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failures.push((err as Error).message);
      note(`FAILED ${(err as Error).message}`);
    }
  };

  /** How long a step after a fault waits: `ms`, or less once an earlier step failed (the test fails anyway). */
  const patience = (ms: number): number => (failures.length > 0 ? Math.min(ms, AFTER_FAILURE_MS) : ms);

  /** Statuses of the execution reports after `after`, e.g. "filled 12, rejected 1" (with reasons: "rejected (…) 1"). */
  const statuses = async (after = '-', reasons = false): Promise<string> => {
    const n = new Map<string, number>();
    for (const r of await bodies(channels.executions, after)) {
      const k = reasons && r.reason ? `${r.status} (${r.reason.slice(0, 80)})` : r.status;
      n.set(k, (n.get(k) ?? 0) + 1);
    }
    return [...n].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  };

  /**
   * Where the pipeline stood at a moment (the last entry of each stream), taken downstream first: a request
   * published after `requests` has its decision after `decisions` and its report after `executions`.
   */
  interface Mark {
    readonly executions: string;
    readonly decisions: string;
    readonly requests: string;
  }
  const mark = async (): Promise<Mark> => {
    const executions = await lastId(channels.executions);
    const decisions = await lastId(channels.riskDecisions);
    const requests = await lastId(channels.tradeRequests);
    return { executions, decisions, requests };
  };
  /**
   * Requests made after `m`: how many, how many the guardian approved, how many an executor reported (it sent
   * their orders and the venue answered), and how many of those traded (a fill).
   */
  const flowSince = async (
    m: Mark,
  ): Promise<{ requests: number; approved: number; reported: number; traded: number }> => {
    const requests = new Set((await bodies(channels.tradeRequests, m.requests)).map((r) => r.id));
    const approved = new Set(
      (await bodies(channels.riskDecisions, m.decisions))
        .filter((d) => d.verdict !== 'reject' && requests.has(d.requestId))
        .map((d) => d.requestId),
    );
    const reports = (await bodies(channels.executions, m.executions)).filter((r) =>
      approved.has(r.requestId),
    );
    const reported = new Set(reports.map((r) => r.requestId));
    const traded = new Set(reports.filter((r) => r.fills > 0).map((r) => r.requestId));
    return { requests: requests.size, approved: approved.size, reported: reported.size, traded: traded.size };
  };
  /**
   * Progress after a fault: `count` trade requests made after `m` were approved by the guardian and executed
   * (their report out), one at least with a fill — each request, decision and report published after the fault:
   * the whole pipeline (feeds, scanner, strategy runner, guardian, an executor with live books) runs again. Fills
   * alone could be earlier decisions draining. Not every execution fills (a FOK order finds the book moved, more so
   * on a loaded machine), so one fill is asked for, not `count`.
   */
  const flows = async (count: number, m: Mark, why: string, timeoutMs = PROGRESS_MS): Promise<void> => {
    try {
      await until(
        `${count} requests made ${why} approved and executed, one filled`,
        async () => {
          const f = await flowSince(m);
          return f.reported >= count && f.traded >= 1;
        },
        patience(timeoutMs),
        250,
      );
    } catch (err) {
      const f = await flowSince(m);
      throw new Error(
        `${(err as Error).message}; since: ${f.requests} requests, ${f.approved} approved, ${f.reported} executed, ` +
          `${f.traded} filled; ` +
          `decisions: ${await verdicts(m.decisions)}; reports: ${await statuses(m.executions)}`,
      );
    }
  };

  /** Agent instances that have sent a heartbeat (`name@instance`), since stream entry `after`. */
  const heartbeats = async (after = '-'): Promise<Set<string>> => {
    const from = after === '-' ? '-' : `(${after}`;
    const entries = (await redis.xrange(prefix + channels.health.name, from, '+')) as [string, string[]][];
    const seen = new Set<string>();
    for (const [, f] of entries) {
      const hb = JSON.parse(f[f.indexOf('d') + 1]!) as { agent: string; instance: string };
      seen.add(`${hb.agent}@${hb.instance}`);
    }
    return seen;
  };

  /** Consumer groups of a stream: pending and lag. */
  const groups = async (key: string): Promise<{ name: string; pending: number; lag: number }[]> => {
    const rows = (await redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
    return rows.map((row) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < row.length; i += 2) o[String(row[i])] = row[i + 1];
      return { name: String(o.name), pending: Number(o.pending), lag: Number(o.lag ?? 0) };
    });
  };
  /** Every durable group (not the per-instance system groups) has taken and acked everything. */
  const drained = async (only?: (group: string) => boolean): Promise<boolean> => {
    for (const key of await redis.keys(`${prefix}pmarb.*`)) {
      if ((await redis.type(key)) !== 'stream') continue;
      for (const g of await groups(key)) {
        if (g.name.includes('@') || (only && !only(g.name))) continue;
        if (g.pending !== 0 || g.lag !== 0) return false;
      }
    }
    return true;
  };

  /** On failure: the timeline and what each process said. */
  const dump = async (): Promise<string> => {
    const up = await heartbeats().catch(() => new Set<string>());
    return [
      `timeline:\n  ${events.join('\n  ')}`,
      `heartbeats from: ${[...up].join(', ')}`,
      `decisions: ${await verdicts().catch((e: Error) => e.message)}`,
      ...procs.map(
        (p) =>
          `--- ${p.name} (pid ${p.pid}, ${p.alive() ? 'running' : `exited ${p.child.exitCode ?? p.child.signalCode}`})\n${logTail(p.err(), 3000)}`,
      ),
      `--- redis-server\n${redisServer.log().slice(-2000)}`,
    ].join('\n');
  };

  it('loses and doubles nothing, and holds the limits', async () => {
    try {
      await scenario();
    } catch (err) {
      process.stderr.write(`chaos failed:\n${await dump()}\n`);
      throw err;
    }
  }, 720_000);

  async function scenario(): Promise<void> {
    // one executor holds the lease at a time (when the executor has one): short, so the pause outlasts it too
    const exec = {
      visibilityTimeoutMs: String(VISIBILITY_MS),
      leaseTtlMs: String(LEASE_MS),
      gtcTtlMs: '3000',
    };
    // the persister first: nothing published goes unseen by the store
    start('persister', 'persister', { visibilityTimeoutMs: '5000', flushIntervalMs: '150' });
    start('risk-guardian', 'risk-guardian');
    const execA = start('executor-a', 'executor', exec);
    const execB = start('executor-b', 'executor', exec);
    start('capital-allocator', 'capital-allocator', { intervalMs: '1000' });
    start('strategy-runner', 'strategy-runner');
    start('opportunity-scanner', 'opportunity-scanner');
    start('market-matcher', 'market-matcher');
    // every consumer subscribed (its groups exist) before the first market is published
    await until('every agent up', async () => (await heartbeats()).size >= procs.length, STEP_MS, 250);
    // simulated feeds started together see the same world (the simulator starts on the whole minute): not
    // across a minute's turn
    // (a loaded machine may take seconds to start a process)
    await until('the first half of a minute', () => new Date().getSeconds() < 35, 30_000, 250);
    // a small world with frequent mispricings: trading starts within seconds
    const sim = { feeds: 'sim', seed: '7', markets: '4', mispricingRate: '30' };
    const atFeeds = await mark();
    const feeds = [
      start('watcher-polymarket', 'venue-watcher', { venue: 'polymarket', ...sim }),
      start('watcher-kalshi', 'venue-watcher', { venue: 'kalshi', ...sim }),
      start('oracle-binance', 'oracle', { source: 'binance', ...sim }),
      start('oracle-chainlink', 'oracle', { source: 'chainlink', ...sim }),
    ];

    await flows(3, atFeeds, 'once the feeds start', STEP_MS);
    note(`trading: ${await len(channels.fills)} fills; decisions ${await verdicts()}`);

    // ---- SIGKILL each trading agent once, mid-stream, and start it again; after each, requests made after the
    // fault are approved and filled (the restarted agent is back and trading goes on)
    const guardian = procs.find((p) => p.name === 'risk-guardian')!;
    await guardian.signal('SIGKILL');
    note('SIGKILL risk-guardian');
    const atGuardianKill = await mark();
    start('risk-guardian-2', 'risk-guardian');
    await soft(() => flows(2, atGuardianKill, 'after the guardian restart (it decides them)'));
    note(`${await len(channels.fills)} fills`);

    await execA.signal('SIGKILL');
    note('SIGKILL executor-a');
    const atExecutorKill = await mark();
    start('executor-a2', 'executor', exec);
    await soft(() => flows(2, atExecutorKill, 'after the executor restart'));
    note(`${await len(channels.fills)} fills`);

    const runner = procs.find((p) => p.name === 'strategy-runner')!;
    await runner.signal('SIGKILL');
    note('SIGKILL strategy-runner');
    const atRunnerKill = await mark();
    start('strategy-runner-2', 'strategy-runner');
    await soft(() => flows(2, atRunnerKill, 'by the restarted runner'));
    note(`${await len(channels.fills)} fills`);

    // ---- SIGSTOP one executor for longer than the visibility timeout and its lease: the other one of the group
    // (the restarted executor-a2) takes over and executes what comes meanwhile
    await execB.signal('SIGSTOP');
    note('SIGSTOP executor-b');
    const pausedAt = Date.now();
    const atPause = await mark();
    await soft(() => flows(2, atPause, 'while executor-b is paused'));
    await until(
      'the pause to outlast the visibility timeout',
      () => Date.now() - pausedAt > 2 * Math.max(VISIBILITY_MS, LEASE_MS),
      STEP_MS,
    );
    await execB.signal('SIGCONT');
    note(`SIGCONT executor-b; ${await len(channels.fills)} fills`);
    const atResume = await mark();
    await soft(() => flows(2, atResume, 'after executor-b resumed'));
    note(`${await len(channels.fills)} fills`);

    // ---- Redis killed and started again (AOF): every agent reconnects
    await redisServer.kill();
    note('SIGKILL redis-server');
    await new Promise((r) => setTimeout(r, 1_500)); // the outage itself
    await redisServer.start();
    note('redis-server restarted');
    redis.disconnect();
    redis = client();
    const atRestart = await lastId(channels.health);
    const atRedis = await mark();
    const running = procs.filter((p) => p.alive()).length;
    await soft(() =>
      until(
        `every running agent (${running}) to heartbeat after the Redis restart`,
        async () => (await heartbeats(atRestart)).size >= running,
        patience(PROGRESS_MS),
        250,
      ),
    );
    await soft(() => flows(2, atRedis, 'after the Redis restart'));
    note(`after the faults: ${await len(channels.fills)} fills`);

    // ---- the feeds stop; the pipeline drains; the equity and positions after the last fill are published
    for (const f of feeds) await f.signal('SIGTERM');
    note('feeds stopped');
    await soft(() =>
      until('the pipeline to drain', () => drained((g) => g !== 'persister'), patience(STEP_MS), 250),
    );
    // resting orders expire (gtcTtlMs): every approved decision is reported before the agents stop
    const unreported = async (): Promise<number> => {
      const reported = new Set((await bodies(channels.executions)).map((r) => r.requestId));
      return (await bodies(channels.riskDecisions)).filter(
        (d) => d.verdict !== 'reject' && !reported.has(d.requestId),
      ).length;
    };
    await soft(async () => {
      try {
        await until(
          'every approved decision reported',
          async () => (await unreported()) === 0,
          patience(PROGRESS_MS),
          250,
        );
      } catch (err) {
        // what the store knows of each one (its intent: state, owner, fence; its orders), for the failure message
        const reported = new Set((await bodies(channels.executions)).map((r) => r.requestId));
        const missing = (await bodies(channels.riskDecisions))
          .filter((d) => d.verdict !== 'reject' && !reported.has(d.requestId))
          .map((d) => d.requestId);
        const rows = await db.query<Record<string, unknown>>(
          `SELECT i.request_id, i.state, i.owner, i.fence,
             (SELECT string_agg(o.id || ':' || o.status, ',') FROM orders o WHERE o.request_id = i.request_id) AS orders
           FROM execution_intents i WHERE i.request_id = ANY($1)`,
          [missing],
        );
        throw new Error(
          `${(err as Error).message}: ${missing.length} never were (${missing.join(', ')}); intents: ${JSON.stringify(rows.rows)}`,
        );
      }
    });
    const lastFills = await len(channels.fills);
    const equityNow = await len(channels.equity);
    await until(
      'an equity snapshot after the last fill',
      async () => (await len(channels.equity)) > equityNow + 1,
      STEP_MS,
    );
    expect(await len(channels.fills)).toBe(lastFills);
    for (const p of procs) if (p.alive() && p.name !== 'persister') await p.signal('SIGTERM');
    note('agents stopped');
    await soft(() =>
      until(
        'the persister to store everything',
        () => drained((g) => g === 'persister'),
        patience(STEP_MS),
        250,
      ),
    );
    await procs.find((p) => p.name === 'persister')!.signal('SIGTERM');
    note('persister stopped');

    const audit = spawnPmArb('audit', ['audit', '--json', '--max-items', '50'], { env });
    procs.push(audit);
    const code = await audit.exited;
    note('audit done');
    process.stderr.write(`chaos timeline:\n  ${events.join('\n  ')}\n`);
    let report: AuditJson;
    try {
      report = JSON.parse(audit.out().trim().split('\n').at(-1) ?? '') as AuditJson;
    } catch {
      throw new Error(`audit printed no JSON (exit ${code}):\n${audit.out()}\n${audit.err()}`);
    }
    process.stderr.write(
      `chaos audit:\n${report.checks.map((c) => `  ${c.ok ? 'OK' : 'FAIL'} ${c.name}: ${c.summary}${c.problems.map((p) => `\n      ${p}`).join('')}`).join('\n')}\n`,
    );
    // the scenario did trade, and the store has exactly the fill ids published
    const busFillIds = new Set((await bodies(channels.fills)).map((f) => f.id));
    const stored = await db.query<{ id: string }>('SELECT id FROM fills');
    expect(busFillIds.size).toBeGreaterThan(0);
    expect(stored.rows.length).toBeGreaterThanOrEqual(busFillIds.size);
    // no approved decision lost: each one the guardian approved (or reduced) has its execution report, exactly one
    const approved = (await bodies(channels.riskDecisions)).filter((d) => d.verdict !== 'reject');
    // (a report republished with its id — at-least-once — is the same report: consumers dedupe it by id)
    const reports = new Map<string, Set<string>>();
    for (const r of await bodies(channels.executions)) {
      const ids = reports.get(r.requestId) ?? new Set<string>();
      ids.add(r.id);
      reports.set(r.requestId, ids);
    }
    const lostOrDoubled = approved
      .filter((d) => reports.get(d.requestId)?.size !== 1)
      .map(
        (d) =>
          `decision ${d.id} (request ${d.requestId}): ${reports.get(d.requestId)?.size ?? 0} execution reports (${[...(reports.get(d.requestId) ?? [])].join(', ')})`,
      );
    process.stderr.write(
      `chaos: ${approved.length} decisions approved, ${reports.size} requests reported; decisions ${await verdicts()}; reports ${await statuses('-', true)}\n`,
    );
    expect(approved.length).toBeGreaterThan(0);
    const problems = [
      ...failures,
      ...lostOrDoubled,
      ...report.checks.flatMap((c) => [
        ...(c.skipped ? [`${c.name}: skipped (${c.skipped})`] : []),
        ...c.problems.map((p) => `${c.name}: ${p}`),
      ]),
    ];
    expect(problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  }
});
