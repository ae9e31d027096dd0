/**
 * dashboard.*: how long the read API takes with a realistic history in the embedded store (PGlite, in memory):
 * 100,000 opportunities (10,000 trade requests with their decisions) and 10,000 fills. Medians of repeated
 * requests through the HTTP app (routing, validation, SQL, JSON), no socket.
 */
import { SimClock } from '../src/core/clock.ts';
import { loadConfig } from '../src/core/config.ts';
import { createDashboard } from '../src/dashboard/server.ts';
import { openDb } from '../src/store/db.ts';
import { migrate } from '../src/store/migrations.ts';
import { seedVolume } from '../test/dashboard/volume.ts';
import { type BenchContext, median } from './harness.ts';
import { pgliteTemplate } from './pglite-template.ts';

const T0 = 1_790_000_000_000;

export async function run(ctx: BenchContext): Promise<void> {
  const opportunities = ctx.quick ? 5_000 : 100_000;
  const fills = ctx.quick ? 500 : 10_000;
  const db = await openDb({ dataDir: 'memory://', template: await pgliteTemplate() }); // initdb is not the bench
  await migrate(db);
  const seeded = performance.now();
  await seedVolume(db, { opportunities, fills, t0: T0 });
  ctx.log(
    `seeded ${opportunities} opportunities, ${fills} fills in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
  );
  const dash = createDashboard({
    config: loadConfig({ DATA_DIR: '/nonexistent-never-written' }),
    clock: new SimClock(T0 + opportunities * 800),
    db,
    role: 'dashboard',
    instance: 'bench',
    controlToken: 'bench-token-0123456789abcdef',
  });
  const time = async (path: string, times: number): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = performance.now();
      const res = await dash.app.request(path);
      await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      ms.push(performance.now() - t);
    }
    return median(ms);
  };
  try {
    const n = ctx.quick ? 3 : 15;
    const page = async (path: string): Promise<{ next: string }> =>
      (await (await dash.app.request(path)).json()) as { next: string };
    let deep = await page('/api/opportunities?limit=50');
    for (let i = 0; i < 20; i++) {
      deep = await page(`/api/opportunities?limit=200&cursor=${encodeURIComponent(deep.next)}`);
    }
    const note = `median of ${n} requests, ${opportunities.toLocaleString('en-US')} opportunities / ${fills.toLocaleString('en-US')} fills in PGlite`;
    ctx.record(
      'dashboard.opportunities_page_ms',
      await time('/api/opportunities?limit=50', n),
      `first page of 50 with outcomes; ${note}`,
    );
    ctx.record(
      'dashboard.opportunities_deep_page_ms',
      await time(`/api/opportunities?limit=50&cursor=${encodeURIComponent(deep.next)}`, n),
      `a page ~4,000 rows deep by cursor; ${note}`,
    );
    ctx.record(
      'dashboard.opportunities_filtered_ms',
      await time('/api/opportunities?limit=50&strategy=oracle-sniper&venue=kalshi', n),
      `strategy + venue filter; ${note}`,
    );
    ctx.record(
      'dashboard.fills_page_ms',
      await time('/api/fills?limit=50', n),
      `first page of 50 fills; ${note}`,
    );
    ctx.record('dashboard.portfolio_ms', await time('/api/portfolio', n), `portfolio figures; ${note}`);
    ctx.record(
      'dashboard.decisions_timeline_ms',
      await time('/api/decisions/timeline?buckets=60', n),
      `decisions by rule, 60 buckets; ${note}`,
    );
  } finally {
    await dash.close();
    await db.close();
  }
}
