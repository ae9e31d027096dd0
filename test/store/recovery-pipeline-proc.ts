/**
 * `pm-arb run --feeds sim --bus redis` as it would be with restart recovery wired in: the same agents
 * (buildAgents), but the risk guardian, executor and capital allocator start from restoreStates(loadRecoveryState)
 * and a HALT_ALL in force is republished. Writes what the guardian and allocator hold right after start to
 * $STATE_DIR/restored-<pid>.json. Env: DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX, STATE_DIR.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCapitalAllocator } from '../../src/agents/capital-allocator.ts';
import { createExecutor } from '../../src/agents/executor.ts';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { probationAmount } from '../../src/allocator/score.ts';
import { buildAgents } from '../../src/app/pipeline.ts';
import { type Agent, onShutdownSignal, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { createLogger } from '../../src/core/log.ts';
import { openDbFromConfig } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';

const config = loadConfig();
const kernel = await createKernel({ config, transport: 'redis', log: createLogger('error') });
const db = await openDbFromConfig(config);
await migrate(db);
const rec = await loadRecoveryState(db);
await db.close();
const st = restoreStates(rec, config, kernel.clock.now());

const guardian = createRiskGuardian({ probationAllocation: probationAmount(config), initial: st.risk });
const allocator = createCapitalAllocator({ initial: st.allocator });
const restored: Record<string, Agent> = {
  'risk-guardian': guardian,
  executor: createExecutor({ initial: st.executor }),
  'capital-allocator': allocator,
};
const agents = (await buildAgents(kernel, { feeds: 'sim', seed: 7 })).map((a) => restored[a.name] ?? a);
const { runtimes, stop } = await startAgents(kernel, agents);
if (st.halt) kernel.bus.publish(channels.system, st.halt);
const snap = guardian.snapshot()!;
writeFileSync(
  join(process.env.STATE_DIR ?? '.', `restored-${process.pid}.json`),
  JSON.stringify({
    fills: rec.fills.length,
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
  }),
);
process.stdout.write('ready\n');
onShutdownSignal(async () => {
  await stop();
  await kernel.bus.close();
  void runtimes;
});
setInterval(() => {}, 1 << 30);
