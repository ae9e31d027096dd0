/** Writes bus messages into a store exactly as the persister would (same row mapping, same state folding). */
import type { Message } from '../../src/core/messages.ts';
import type { Db } from '../../src/store/db.ts';
import { mapMessage, type Row, type SpecName, type StateOp } from '../../src/store/rows.ts';
import { applyStateOps } from '../../src/store/system-state.ts';
import { writeRows } from '../../src/store/writer.ts';

export async function seed(db: Db, messages: readonly Message[], idPrefix = 'msg'): Promise<void> {
  const rows = new Map<SpecName, Row[]>();
  const state: StateOp[] = [];
  messages.forEach((m, i) => {
    const mapped = mapMessage(`${idPrefix}-${i}`, m);
    for (const r of mapped.rows) {
      const list = rows.get(r.spec) ?? [];
      list.push(r.row);
      rows.set(r.spec, list);
    }
    state.push(...mapped.state);
  });
  await db.transaction(async (tx) => {
    for (const [spec, list] of rows) {
      // big seeds go in slices so one statement stays a sane size
      for (let i = 0; i < list.length; i += 5_000) await writeRows(tx, spec, list.slice(i, i + 5_000));
    }
    if (state.length > 0) await applyStateOps(tx, state, 0);
  });
}
