/**
 * Store write throughput: the persister's path — rows mapped from fill and opportunity messages, written in
 * batches through `writeBatch` (the BatchWriter's: one transaction per batch; on PostgreSQL one COPY per
 * insert-only table, on PGlite one INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING) — into PostgreSQL
 * (127.0.0.1:5432, a schema of its own) and into file-backed PGlite. Medians of several runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fill, Opportunity } from '../src/core/messages.ts';
import { type Db, openDb } from '../src/store/db.ts';
import { migrate } from '../src/store/migrations.ts';
import { fillRow, opportunityRow, type Row } from '../src/store/rows.ts';
import { writeBatch } from '../src/store/writer.ts';
import { type BenchContext, cpuNow, median, nowNs } from './harness.ts';
import { pgliteTemplate } from './pglite-template.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function fill(i: number): Fill {
  return {
    type: 'fill',
    id: `f-${i}`,
    orderId: `o-${i}`,
    requestId: `r-${i}`,
    strategy: 'sniper',
    venue: 'polymarket',
    marketId: `m-${i % 100}`,
    tokenId: `t-${i % 200}`,
    side: i % 2 ? 'buy' : 'sell',
    price: 1 + (i % 999_999),
    shares: 1_000_000 + i,
    fee: 12_345 + (i % 77),
    liquidity: 'taker',
    kind: 'trade',
    ts: 1_700_000_000_000 + i,
  };
}

function opportunity(i: number): Opportunity {
  return {
    type: 'opportunity',
    id: `op-${i}`,
    kind: 'cross_venue',
    legs: [
      {
        venue: 'polymarket',
        marketId: 'm',
        tokenId: 't',
        side: 'buy',
        limitPrice: 451_200,
        shares: 10_000_000,
      },
      {
        venue: 'kalshi',
        marketId: 'K',
        tokenId: 'K:no',
        side: 'buy',
        limitPrice: 520_000,
        shares: 10_000_000,
      },
    ],
    edge: 123_456 + i,
    edgeBps: 25,
    cost: 9_712_000,
    fees: 10_001,
    shares: 10_000_000,
    signal: 0.5,
    detectedAt: 1_700_000_000_000 + i,
    expiresAt: 1_700_000_005_000 + i,
    data: [{ key: 'polymarket:t', receiveTime: 1_700_000_000_000 + i }],
  };
}

/** rows per CPU-second of this process, per run of the last measure() (PostgreSQL's own CPU is not counted) */
let cpuRates: number[] = [];
/** rows per CPU-second of this process and the PostgreSQL backends that served it, per run (PostgreSQL only) */
let allCpuRates: number[] = [];
const seenBackends = new Set<number>();

/** CPU seconds a process on this machine has used (/proc/<pid>/stat utime + stime); NaN when unreadable. */
function procCpu(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // utime is field 14, stime 15 (proc(5))
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ 100
  } catch {
    return Number.NaN;
  }
}

/** Writes `total` rows (half fills, half opportunities) in batches of `batch`; returns rows/s. */
async function once(db: Db, run: number, total: number, batch: number): Promise<number> {
  // rows are mapped before the clock starts: the persister maps them on arrival, off the write path
  const batches: { fills: Row[]; opps: Row[] }[] = [];
  for (let start = 0; start < total; start += batch) {
    const fills: Row[] = [];
    const opps: Row[] = [];
    for (let i = start; i < Math.min(total, start + batch); i++) {
      const id = run * total + i;
      if (i % 2) fills.push(fillRow(fill(id)).row);
      else opps.push(opportunityRow(opportunity(id)).row);
    }
    batches.push({ fills, opps });
  }
  // the PostgreSQL backends of the pool (a local server, seen in earlier runs): their CPU counts too
  const backends = new Map([...seenBackends].map((pid) => [pid, procCpu(pid)]));
  const serverCpu = (): number => [...backends].reduce((s, [pid, c0]) => s + procCpu(pid) - c0, 0);
  const c0 = cpuNow();
  const t0 = nowNs();
  for (const b of batches) {
    await writeBatch(
      db,
      new Map([
        ['fills', b.fills],
        ['opportunities', b.opps],
      ]),
    );
  }
  const secs = (nowNs() - t0) / 1e9;
  const own = cpuNow() - c0;
  if (db.backend === 'postgres') {
    // the pool's one connection (poolSize 1: the writer writes one batch at a time anyway); a backend new in this
    // run (a reconnect) makes its figure NaN
    const pid = Number((await db.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p);
    seenBackends.add(pid);
    if (!backends.has(pid)) backends.set(pid, Number.NaN);
  }
  cpuRates.push(total / Math.max(own, 1e-6));
  if (db.backend === 'postgres') allCpuRates.push(total / Math.max(own + serverCpu(), 1e-6));
  return total / secs;
}

async function measure(
  db: Db,
  ctx: BenchContext,
  total: number,
  batch: number,
  runs: number,
): Promise<{ rate: number; perCpu: number; perAllCpu: number }> {
  await migrate(db);
  await once(db, 1_000, Math.min(total, 4_000), batch); // warm-up: plans, caches, WASM JIT
  const rates: number[] = [];
  cpuRates = [];
  allCpuRates = [];
  for (let r = 0; r < runs; r++) {
    rates.push(await once(db, r, total, batch));
    ctx.log(`${db.backend} run ${r + 1}: ${Math.round(rates[r]!)} rows/s`);
  }
  const all = allCpuRates.filter(Number.isFinite);
  return { rate: median(rates), perCpu: median(cpuRates), perAllCpu: median(all) };
}

export async function run(ctx: BenchContext): Promise<void> {
  // quick: 5 batches a run (the batch size is the persister's default, the same in both modes)
  const total = ctx.quick ? 10_000 : 60_000;
  const batch = 2_000;
  const runs = ctx.quick ? 3 : 5;

  const schema = `bench_store_${randomBytes(4).toString('hex')}`;
  const pg = await openDb({ url: PG_URL, schema, poolSize: 1 });
  let pg$: { rate: number; perCpu: number; perAllCpu: number };
  try {
    pg$ = await measure(pg, ctx, total, batch, runs);
  } finally {
    await pg.exec(`DROP SCHEMA ${schema} CASCADE`);
    await pg.close();
  }

  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bench-pglite-'));
  const lite = await openDb({ dataDir: dir, template: await pgliteTemplate() }); // initdb is not the bench
  let lite$: { rate: number; perCpu: number; perAllCpu: number };
  try {
    lite$ = await measure(lite, ctx, total, batch, runs);
  } finally {
    await lite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const how = `${total} rows (fills + opportunities), batches of ${batch} in one transaction each, median of ${runs}`;
  const pgRate = pg$.rate;
  const liteRate = lite$.rate;
  // the bench process waits for the server and vice versa, so rows per CPU-second of both together is about
  // what one client gets from an idle 2-core machine
  ctx.record(
    'store.pg.rows_s',
    pgRate,
    `PostgreSQL 127.0.0.1: ${how}; per CPU-second of the bench process and its PostgreSQL backend together ` +
      `${Math.round(pg$.perAllCpu).toLocaleString('en-US')} rows/s (the bench process alone ${Math.round(pg$.perCpu).toLocaleString('en-US')})`,
  );
  ctx.record('store.pglite.rows_s', liteRate, `PGlite, file-backed: ${how}`, {
    perCpuS: lite$.perCpu,
    cpuOf: 'the process (PGlite runs in it)',
  });
  ctx.record('store.pglite_ratio', liteRate / pgRate, 'PGlite rows/s ÷ PostgreSQL rows/s');
}
