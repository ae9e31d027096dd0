/**
 * `pm-arb run --feeds sim --bus redis` as it would be with restart recovery wired in: the same agents
 * (assemble), but the risk guardian, executor and capital allocator start from restoreStates(loadRecoveryState)
 * and a HALT_ALL in force is republished. Writes what the guardian and allocator hold right after start to
 * $STATE_DIR/restored-<pid>.json. Env: DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX, STATE_DIR.
 */
import { join } from 'node:path';
import type { CapitalAllocator } from '../../src/agents/capital-allocator.ts';
import type { RiskGuardian } from '../../src/agents/risk-guardian.ts';
import { assemble } from '../../src/app/assemble.ts';
import { onShutdownSignal, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { createLogger } from '../../src/core/log.ts';
import { openDbFromConfig } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { writeJsonAtomic } from '../helpers/fixtures.ts';

const config = loadConfig();
const kernel = await createKernel({ config, transport: 'redis', log: createLogger('error') });
const db = await openDbFromConfig(config);
await migrate(db);
const rec = await loadRecoveryState(db);
await db.close();
const st = restoreStates(rec, config, kernel.clock.now());

// the same agents as `pm-arb run`, started from the restored states (as run does when the store has state)
const agents = (await assemble(kernel, { feeds: 'sim', seed: 7, restored: st })).agents;
const guardian = agents.find((a) => a.name === 'risk-guardian') as RiskGuardian;
const allocator = agents.find((a) => a.name === 'capital-allocator') as CapitalAllocator;
const { runtimes, stop } = await startAgents(kernel, agents);
if (st.halt) kernel.bus.publish(channels.system, st.halt);
const snap = guardian.snapshot()!;
writeJsonAtomic(join(process.env.STATE_DIR ?? '.', `restored-${process.pid}.json`), {
  fills: rec.fillCount,
  ledger: {
    positions: snap.ledger.positions,
    cashFlow: snap.ledger.cashFlow,
    realizedPnl: snap.ledger.realizedPnl,
  },
  highWaterMark: snap.highWaterMark,
  killSwitch: snap.killSwitch,
  allocations: snap.allocations,
  allocator: allocator.allocations(),
  halt: st.halt?.reason ?? null,
});
process.stdout.write('ready\n');
onShutdownSignal(async () => {
  await stop();
  await kernel.bus.close();
  void runtimes;
});
setInterval(() => {}, 1 << 30);
