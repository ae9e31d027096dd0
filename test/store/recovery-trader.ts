/**
 * The trading process of the kill-and-restart test (run with `node --import tsx`). On start it restores from the
 * store (loadRecoveryState: fills replayed into the ledger, high-water mark, halt state, allocations), writes what
 * it restored to $STATE_DIR/restored-<pid>.json, re-announces its restored positions and equity, then trades on
 * from where the store says it stopped, publishing over Redis. $STATE_DIR/done-<pid>.json when halted.
 *
 * Env: DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX, HALT_AT, STEP_DELAY_MS, STATE_DIR.
 */
import { join } from 'node:path';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { createLogger } from '../../src/core/log.ts';
import { openDbFromConfig } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { writeJsonAtomic } from '../helpers/fixtures.ts';
import {
  allocationMsg,
  applyFill,
  equityMsg,
  newState,
  type Out,
  positionMsg,
  step,
  summary,
} from './recovery-sim.ts';

const config = loadConfig();
const haltAt = Number(process.env.HALT_AT ?? 1500);
const delayMs = Number(process.env.STEP_DELAY_MS ?? 1);
const dir = process.env.STATE_DIR ?? '.';

const db = await openDbFromConfig(config);
await migrate(db);
// every fill: this trader keeps a ledger of its own (not the project's, which starts from a snapshot)
const rec = await loadRecoveryState(db, { snapshot: false });
await db.close();

const s = newState();
for (const f of rec.fills) applyFill(s, f);
if (rec.highWaterMark !== null) s.highWaterMark = Math.max(s.highWaterMark, rec.highWaterMark);
s.halted = rec.halted;
s.haltReason = rec.haltReason;
s.allocation = rec.allocations ? { ...rec.allocations.allocations } : null;
writeJsonAtomic(join(dir, `restored-${process.pid}.json`), summary(s));

const kernel = await createKernel({
  config,
  transport: 'redis',
  log: createLogger('warn'),
  instance: `trader-${process.pid}`,
});
const bus = kernel.bus;
const publish = (o: Out): void => {
  bus.publish(channels[o.channel] as never, o.body as never, { id: o.id });
};

// Re-announce what the store may have missed if the last run died between a fill and its consequences.
if (s.i > 0) {
  const last = rec.fills[rec.fills.length - 1]!;
  for (const p of s.positions.values())
    publish({
      id: `pos-${last.id}-${p.strategy}-${p.tokenId}`,
      channel: 'positions',
      body: positionMsg(s, p),
    });
  publish({ id: `eq-${last.id}`, channel: 'equity', body: equityMsg(s) });
  const lastAlloc = Math.floor(s.i / 100) * 100;
  if (lastAlloc > 0 && lastAlloc === s.i)
    publish({ id: `alloc-${lastAlloc}`, channel: 'allocations', body: allocationMsg(s) });
}

for (;;) {
  const out = step(s, haltAt);
  if (out.length === 0) break;
  for (const o of out) publish(o);
  if (delayMs > 0) {
    await bus.flush();
    await new Promise((r) => setTimeout(r, delayMs));
  }
}
await bus.flush();
writeJsonAtomic(join(dir, `done-${process.pid}.json`), summary(s));
await bus.close();
