/**
 * Poison isolation in the batched writer: one row the database refuses on its content goes to its poison
 * callback with the reason, the good rows of the same batch are written and acknowledged, and nothing is
 * acknowledged unwritten. NUL characters (which PostgreSQL refuses in text and jsonb) are cleaned beforehand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { fillRow, marketRows, type RowOf } from '../../src/store/rows.ts';
import { createBatchWriter } from '../../src/store/writer.ts';
import { fill, market } from './samples.ts';

let db: Db;
beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
});
afterAll(async () => {
  await db.close();
});

describe('poison isolation', () => {
  it('a bad row is handed over with its reason; the good rows of its batch are written and acked', async () => {
    const w = createBatchWriter({ db, clock: new SimClock(0), flushIntervalMs: 1 });
    const acked: string[] = [];
    const poisoned: [string, string][] = [];
    const good1 = fillRow(fill(101));
    const good2 = fillRow(fill(102));
    // a price the database cannot read as a number
    const bad: RowOf = {
      spec: 'fills',
      row: fillRow(fill(103)).row.map((c, i) => (i === 9 ? 'not-a-number' : c)),
    };
    for (const [name, r] of [
      ['fill-101', good1],
      ['fill-103', bad],
      ['fill-102', good2],
    ] as const)
      w.add(
        [r],
        [],
        () => acked.push(name),
        (reason) => poisoned.push([name, reason]),
      );
    await w.flush();
    expect(acked.sort()).toEqual(['fill-101', 'fill-102']);
    expect(poisoned.map(([n]) => n)).toEqual(['fill-103']);
    expect(poisoned[0]![1]).toMatch(/numeric/);
    const ids = await db.query<{ id: string }>(
      "SELECT id FROM fills WHERE id IN ('fill-101','fill-102','fill-103') ORDER BY id",
    );
    expect(ids.rows.map((r) => r.id)).toEqual(['fill-101', 'fill-102']);
    expect(w.stats()).toMatchObject({ poisoned: 1, buffered: 0 });
    // the writer goes on: later batches are written normally
    w.add([fillRow(fill(104))], [], () => acked.push('fill-104'));
    await w.flush();
    expect(acked).toContain('fill-104');
  });

  it('NUL characters in texts are removed before they reach the database', async () => {
    const w = createBatchWriter({ db, clock: new SimClock(0), flushIntervalMs: 1 });
    let ok = false;
    w.add(
      [
        ...marketRows(market(900, { question: 'Will\u0000 it rain?' })),
        fillRow(fill(900, { strategy: 'a\u0000b' })),
      ],
      [],
      () => {
        ok = true;
      },
      (reason) => {
        throw new Error(reason);
      },
    );
    await w.flush();
    expect(ok).toBe(true);
    const f = await db.query<{ strategy: string }>("SELECT strategy FROM fills WHERE id = 'fill-900'");
    expect(f.rows[0]!.strategy).toBe('ab');
  });
});
