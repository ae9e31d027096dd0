/**
 * `pm-arb agent <name> [--opt key=value ...]`: runs one agent of the assembly's catalogue (src/app/assemble.ts) as
 * its own process on the Redis bus (REDIS_URL). SIGINT/SIGTERM stop it gracefully: the message in hand finishes
 * and is acked.
 *
 * The agents with state (risk guardian, executor, capital allocator, strategy runner) restore it from the store
 * (DATABASE_URL) before they consume, as `pm-arb run` does: limits, reservations, high-water mark, stops and halt;
 * holdings, executed decisions, the execution intents and the markets to settle; cash and allocations; the
 * runner's allocations, open positions and strategy switches. The opportunity scanner restores nothing: see README.
 */
import type { Command } from 'commander';
import { AGENT_CATALOGUE, agentProcessMode, assemble, type ProcessMode } from '../../app/assemble.ts';
import type { Agent, AgentRuntime } from '../../core/agent.ts';
import { type Config, ConfigError, loadConfig, loadDotEnv } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { type Db, redactUrl } from '../../store/db.ts';
import { UsageError } from '../main.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The agents that restore their state from the store at start. */
export const STATEFUL_AGENTS: readonly string[] = [
  'risk-guardian',
  'executor',
  'capital-allocator',
  'strategy-runner',
];

function knownAgents(): string {
  const specs = [...AGENT_CATALOGUE].sort((a, b) => (a.name < b.name ? -1 : 1));
  const w = Math.max(...specs.map((s) => s.name.length), 4);
  return specs.map((s) => `  ${s.name.padEnd(w)}  ${s.description}`).join('\n');
}

export function parseOpts(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--opt ${JSON.stringify(p)}: expected key=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/**
 * The mode of a standalone stateful agent, with its state restored from the store (migrated first): what `pm-arb
 * run` hands the same agents. The executor also keeps its execution intents in `db`; the executor and the risk
 * guardian read their state there again when they take over from another instance (their leases).
 */
export async function restoreAgentMode(
  name: string,
  mode: ProcessMode,
  db: Db,
  config: Config,
  now: number,
): Promise<{ mode: ProcessMode; note: string }> {
  const [{ migrate }, { loadRecoveryState }, { restoreStates }] = await Promise.all([
    import('../../store/migrations.ts'),
    import('../../store/queries.ts'),
    import('../../store/restore.ts'),
  ]);
  await migrate(db);
  const rec = await loadRecoveryState(db);
  const restored = restoreStates(rec, config, now);
  return {
    mode: { ...mode, restored, ...(name === 'executor' || name === 'risk-guardian' ? { store: db } : {}) },
    note: `restored ${rec.fillCount} fills, ${rec.pendingDecisions.length} pending decisions${rec.halted ? ', HALTED' : ''} (${rec.base ? `ledger snapshot of ${rec.base.fills} fills + ${rec.fills.length} after it` : 'every fill replayed'}${rec.snapshotFallback ? `: ${rec.snapshotFallback}` : ''})`,
  };
}

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run one agent as its own process on the Redis bus (needs REDIS_URL)')
    .argument('<name>', 'which agent (listed below)')
    .option('--opt <key=value>', 'an option for the agent; repeat for several', collect, [])
    .option('--heartbeat-ms <ms>', 'heartbeat interval on the health channel', '5000')
    .addHelpText('after', () => `\nAgents:\n${knownAgents()}\n`)
    .action(async (name: string, opts: { opt: string[]; heartbeatMs: string }) => {
      if (!AGENT_CATALOGUE.some((s) => s.name === name)) {
        throw new UsageError(`unknown agent ${JSON.stringify(name)}. Known agents:\n${knownAgents()}`);
      }
      const options = parseOpts(opts.opt);
      const heartbeatMs = Number(opts.heartbeatMs);
      if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0) {
        throw new UsageError(
          `--heartbeat-ms ${JSON.stringify(opts.heartbeatMs)}: expected a positive whole number`,
        );
      }
      loadDotEnv();
      const config = loadConfig();
      if (!config.redisUrl) {
        throw new ConfigError(
          `REDIS_URL is not set: \`pm-arb agent ${name}\` runs the agent as its own process on the Redis bus.\n` +
            'Set it in the environment or .env, e.g. REDIS_URL=redis://127.0.0.1:6379 ' +
            '(or run everything in one process with `pm-arb run`).',
        );
      }
      // the first line before the runtime, the Redis client, the metrics and the store load
      const log = createLogger(config.logLevel);
      log.info({ agent: name, redis: redactUrl(config.redisUrl) }, 'agent starting');
      const [
        { AgentRuntime, onShutdownSignal },
        { combinedHaltSource, createRedisHaltStore, redisPersistenceWarning },
        { createKernel },
        { createProcessOps },
        { openDbFromConfig },
        { storeHaltSource },
      ] = await Promise.all([
        import('../../core/agent.ts'),
        import('../../core/halt.ts'),
        import('../../core/kernel.ts'),
        import('../../ops/process.ts'),
        import('../../store/db.ts'),
        import('../../store/system-state.ts'),
      ]);
      const ops = createProcessOps(await createKernel({ config, transport: 'redis', log }), {
        service: name,
      });
      const kernel = ops.kernel;
      let rt: AgentRuntime;
      let server: Awaited<ReturnType<typeof ops.serve>>;
      // the durable halt state: the Redis key, and the store when the deployment has one (DATABASE_URL)
      const haltKey = createRedisHaltStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix });
      let haltDb: Db | undefined;
      const closeHalt = async (): Promise<void> => {
        await haltKey.close();
        await haltDb?.close();
      };
      try {
        let agent: Agent;
        let mode: ProcessMode;
        try {
          mode = agentProcessMode(name, options);
        } catch (err) {
          throw new UsageError(`agent ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
        // an agent with state restores it from the store before it consumes (and the executor keeps its intents there)
        let restoredNote = '';
        if (STATEFUL_AGENTS.includes(name) && config.databaseUrl) {
          haltDb = await openDbFromConfig(config, { poolSize: 2 });
          const r = await restoreAgentMode(name, mode, haltDb, config, kernel.clock.now());
          mode = r.mode;
          restoredNote = r.note;
        } else if (STATEFUL_AGENTS.includes(name)) {
          kernel.log.warn(
            { agent: name },
            'DATABASE_URL is not set: this agent starts empty (nothing restored, exactly-once for this process only)',
          );
        }
        try {
          const built = await assemble(kernel, mode);
          agent = built.agents[0]!;
        } catch (err) {
          // the factory rejects bad --opt values
          throw new UsageError(`agent ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (restoredNote) kernel.log.info({ agent: name }, restoredNote);
        // a trading agent also reads the halt state from the store, when the deployment has one
        if (agent.trading && config.databaseUrl) haltDb ??= await openDbFromConfig(config, { poolSize: 1 });
        const haltSource = combinedHaltSource(haltDb ? [haltKey, storeHaltSource(haltDb)] : [haltKey]);
        rt = new AgentRuntime(kernel, agent, { heartbeatMs, haltSource });
        await rt.start();
        server = await ops.serve(() => [rt]);
      } catch (err) {
        await kernel.bus.close();
        await closeHalt();
        throw err;
      }
      kernel.log.info({ agent: name, instance: kernel.instance, options }, 'agent running');
      void redisPersistenceWarning(config.redisUrl).then((w) => {
        if (w) kernel.log.warn({ agent: name }, w);
      });
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          kernel.log.info({ agent: name, signal }, 'stopping');
          await rt.stop();
          await server?.close();
          await kernel.bus.close();
          await closeHalt();
          process.stdout.write(
            `${JSON.stringify({ agent: name, stopped: true, health: rt.agent.health?.() ?? {} })}\n`,
          );
          resolve();
        });
      });
    });
}
