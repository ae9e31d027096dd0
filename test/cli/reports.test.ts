/**
 * `pm-arb trades | decisions | positions | pnl` on a seeded embedded store: read from the store when nothing runs,
 * and through the running process's endpoint while one holds the database (the real binary, a second process).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/commands/reports.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Message } from '../../src/core/messages.ts';
import { startDashboard } from '../../src/dashboard/server.ts';
import { openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { seed } from '../dashboard/seed.ts';
import { pmArbHere } from '../helpers/cli.ts';
import { decision, equity, fill, market, performance, position } from '../store/samples.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-reports-'));
const T = Date.UTC(2026, 4, 1, 12, 0, 0);

function data(): Message[] {
  const m = market(1, { receiveTime: T });
  const yes = m.outcomes[0]!.tokenId;
  return [
    m,
    fill(1, {
      strategy: 'cross-venue-arb',
      venue: 'polymarket',
      marketId: m.marketId,
      tokenId: yes,
      side: 'buy',
      price: 451_200,
      shares: 1_234_500_000,
      fee: 12_345,
      ts: T + 1_000,
    }),
    fill(2, {
      strategy: 'oracle-sniper',
      venue: 'kalshi',
      marketId: 'KX-1',
      tokenId: 'KX-1:yes',
      ts: T + 2_000,
    }),
    fill(3, { strategy: 'oracle-sniper', kind: 'settlement', ts: T + 3_000 }),
    decision(1, {
      strategy: 'cross-venue-arb',
      verdict: 'approve',
      rule: 'ok',
      reason: 'within every limit',
      decidedAt: T,
    }),
    decision(2, {
      strategy: 'oracle-sniper',
      verdict: 'reject',
      rule: 'allocation_cap',
      reason: 'strategy oracle-sniper: $25 used + $3 asked exceeds the limit $25',
      decidedAt: T + 500,
    }),
    decision(3, {
      strategy: 'oracle-sniper',
      verdict: 'reject',
      rule: 'stale_book',
      reason: 'book is 9 s old',
      decidedAt: T + 600,
    }),
    position({
      venue: 'polymarket',
      marketId: m.marketId,
      tokenId: yes,
      strategy: 'cross-venue-arb',
      shares: 1_234_500_000,
      costBasis: 557_006_400,
      mark: 460_000,
      unrealizedPnl: 10_863_600,
      realizedPnl: 0,
      ts: T + 1_000,
    }),
    equity(T, 500_000_000, 500_000_000),
    equity(T + 60_000, 1_510_863_600, 1_510_863_600),
    performance('cross-venue-arb', 10_863_600, T + 60_000),
  ];
}

beforeAll(async () => {
  const db = await openDb({ dataDir: join(dir, 'stored', 'pglite') });
  await migrate(db);
  await seed(db, data());
  await db.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stored = { DATA_DIR: join(dir, 'stored') };

describe('reports from the store (nothing running)', () => {
  it('trades: every fill newest first, amounts in the one money format, whole ids, the source on stderr', async () => {
    const r = await pmArbHere(['trades'], stored);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`(from PGlite in ${resolve(dir, 'stored', 'pglite')})`);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^TIME \(UTC\)\s+STRATEGY\s+VENUE\s+SIDE\s+SHARES\s+PRICE\s+NOTIONAL\s+FEE\s+MARKET$/,
    );
    expect(lines[1]).toMatch(/^2026-05-01 12:00:03 {2}oracle-sniper/);
    expect(lines[1]).toContain('(settlement)');
    const cross = lines.find((l) => l.includes('cross-venue-arb'))!;
    expect(cross).toContain('1,234.5');
    expect(cross).toContain('0.4512');
    expect(cross).toContain('$557.01');
    expect(cross).toContain('$0.0123');
    expect(cross).toContain('polymarket:0xcond1 Yes  Will thing 1 happen?');
    expect(lines.at(-1)).toBe('3 fills, newest first');
  });

  it('trades --json: the read API rows, amounts as exact decimal strings named in dollars', async () => {
    const r = await pmArbHere(['trades', '--json', '--strategy', 'cross-venue-arb'], stored);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { total: number; rows: Record<string, unknown>[] };
    expect(j.total).toBe(1);
    expect(j.rows[0]).toMatchObject({
      notionalUsd: '557.0064',
      feeUsd: '0.012345',
      price: '0.4512',
      shares: '1234.5',
    });
  });

  it('trades --since and --limit filter', async () => {
    const since = String(T + 1_500);
    const r = await pmArbHere(['trades', '--json', '--since', since], stored);
    expect((JSON.parse(r.stdout) as { rows: unknown[] }).rows).toHaveLength(2);
    const one = await pmArbHere(['trades', '--limit', '1'], stored);
    expect(one.stdout.trim().split('\n').at(-1)).toBe('1 of 3 fills, newest first');
  });

  it('decisions: counts per rule, then each decision with its rule and reason; --rule filters', async () => {
    const r = await pmArbHere(['decisions'], stored);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^BY RULE \(3 decisions\): /);
    expect(r.stdout).toContain('allocation_cap reject 1');
    expect(r.stdout).toContain('strategy oracle-sniper: $25 used + $3 asked exceeds the limit $25');
    const only = await pmArbHere(['decisions', '--rule', 'stale_book', '--json'], stored);
    const j = JSON.parse(only.stdout) as { rows: { rule: string; reason: string }[] };
    expect(j.rows).toEqual([expect.objectContaining({ rule: 'stale_book', reason: 'book is 9 s old' })]);
  });

  it('positions: open positions with average price, mark, value and P&L', async () => {
    const r = await pmArbHere(['positions'], stored);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /cross-venue-arb\s+1,234.5\s+0.4512\s+0.46\s+\$557.01\s+\$567.87\s+\+\$10.86\s+\$0.00/,
    );
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 open positions');
    const closed = await pmArbHere(['positions', '--closed'], stored);
    expect(closed.stdout.trim()).toBe('no closed positions');
  });

  it('pnl: equity since the start, per-strategy P&L, and --json with units in the names', async () => {
    const r = await pmArbHere(['pnl'], { ...stored, INITIAL_BANKROLL: '500' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^equity {6}\$1,510.86 {2}\(\+\$1,010.86 since the start at \$500.00/);
    expect(r.stdout).toMatch(/cross-venue-arb\s+\+\$10.86\s+10\s+6\s+4/);
    const j = JSON.parse((await pmArbHere(['pnl', '--json'], stored)).stdout) as {
      portfolio: { equityUsd: string };
    };
    expect(j.portfolio.equityUsd).toBe('1510.8636');
  });

  it('nothing stored where DATA_DIR points: says where it looked and what to do (exit 1)', async () => {
    const r = await pmArbHere(['trades'], { DATA_DIR: join(dir, 'empty') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing stored in ${join(dir, 'empty')} (DATA_DIR)`);
    expect(r.stderr).toContain('run `npm start`');
  });

  it('bad options are usage errors (exit 2)', async () => {
    const a = await pmArbHere(['trades', '--since', 'yesterday'], stored);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--since "yesterday": expected a duration back from now');
    const b = await pmArbHere(['trades', '--venue', 'nyse'], stored);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--venue must be one of polymarket, kalshi; got "nyse"');
    const c = await pmArbHere(['decisions', '--limit', '0'], stored);
    expect(c.code).toBe(2);
  });

  it('parseSince: durations back from now, ISO dates, epoch ms', () => {
    expect(parseSince('30m', 10_000_000)).toBe(10_000_000 - 1_800_000);
    expect(parseSince('2026-05-01', 0)).toBe(Date.UTC(2026, 4, 1));
    expect(parseSince('1777636800000', 0)).toBe(1_777_636_800_000);
  });
});

describe('reports while a process holds the embedded database', () => {
  it('go through its control endpoint (the real binary in a second process)', async () => {
    const dataDir = join(dir, 'running');
    const config = loadConfig({ DATA_DIR: dataDir, DASHBOARD_PORT: '0' });
    const db = await openDb({ dataDir: join(dataDir, 'pglite') }); // takes the PGlite lock for this process
    await migrate(db);
    await seed(db, data());
    const running = await startDashboard({
      config,
      clock: wallClock(),
      db,
      role: 'run',
      instance: 'reports-test',
    });
    try {
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          [resolve('bin/pm-arb.js'), 'trades', '--json', '--kind', 'trade'],
          { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, timeout: 60_000 },
          (err, stdout, stderr) =>
            done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`(from the running pm-arb (pid ${process.pid}, ${running.url}))`);
      const j = JSON.parse(r.stdout) as { rows: { strategy: string }[] };
      expect(j.rows.map((x) => x.strategy)).toEqual(['oracle-sniper', 'cross-venue-arb']);
    } finally {
      await running.stop();
      await db.close();
    }
  }, 90_000);
});
