/**
 * The persister process of the kill-and-restart test: the real persister agent on the Redis bus and the
 * PostgreSQL of DATABASE_URL, with a short visibility timeout so a killed predecessor's unacked messages are
 * claimed quickly, and
 * batches 150 ms apart so a kill surely lands with messages delivered but not yet committed. Env: DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX.
 */

import { createPersister } from '../../src/agents/persister.ts';
import { onShutdownSignal, startAgents } from '../../src/core/agent.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { createLogger } from '../../src/core/log.ts';

const config = loadConfig();
const kernel = await createKernel({
  config,
  transport: 'redis',
  log: createLogger('warn'),
  instance: `persister-${process.pid}`,
});
const agents = await startAgents(
  kernel,
  [
    createPersister({
      visibilityTimeoutMs: 1_000,
      flushIntervalMs: 150,
      maxBatchRows: 2_000,
      pruneEveryMs: 0,
    }),
  ],
  { heartbeatMs: 500 },
);
process.stdout.write('ready\n');
onShutdownSignal(async () => {
  await agents.stop();
  await kernel.bus.close();
});
