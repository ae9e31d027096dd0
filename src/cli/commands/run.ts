/**
 * `pm-arb run [--feeds sim|live] [--seed N] [--bus inproc|redis]`: every agent of the system in one process.
 * `npm start` is `pm-arb run --feeds sim` (the simulated market, paper trading, in-process bus, embedded store).
 * Stops gracefully on SIGINT/SIGTERM (agents stop in reverse order) or after --duration.
 */
import type { Command } from 'commander';
import { buildAgents } from '../../app/pipeline.ts';
import { onShutdownSignal, startAgents } from '../../core/agent.ts';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import { createKernel } from '../../core/kernel.ts';
import { UsageError } from '../main.ts';
import { parseDuration } from './record.ts';
import { parseIntOpt } from './simulate.ts';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run every agent in one process (npm start = run --feeds sim)')
    .option('--feeds <kind>', 'sim (the seeded simulated market) or live (real venues, paper trading)', 'sim')
    .option('--seed <n>', 'simulator seed with --feeds sim', '1')
    .option('--bus <transport>', 'inproc or redis (needs REDIS_URL)', 'inproc')
    .option('--duration <d>', 'stop after this long (30s, 10m); default: until Ctrl-C')
    .action(async (o: Record<string, string>) => {
      if (o.feeds !== 'sim' && o.feeds !== 'live')
        throw new UsageError(`--feeds must be sim or live, got "${o.feeds}"`);
      if (o.bus !== 'inproc' && o.bus !== 'redis')
        throw new UsageError(`--bus must be inproc or redis, got "${o.bus}"`);
      const seed = parseIntOpt('--seed', o.seed!);
      const duration = o.duration === undefined ? undefined : parseDuration(o.duration);
      loadDotEnv();
      const config = loadConfig();
      const kernel = await createKernel({ config, transport: o.bus });
      const agents = await buildAgents(kernel, { feeds: o.feeds, seed });
      const store = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite (${config.dataDir})`;
      const trading = config.paperTrading ? 'paper' : 'live (PAPER_TRADING=false)';
      process.stderr.write(
        `pm-arb run: mode ${trading}, feeds ${o.feeds}${o.feeds === 'sim' ? ` (seed ${seed})` : ''}, bus ${o.bus}, ` +
          `store ${store}, ${agents.length} agents: ${agents.map((a) => a.name).join(', ')}\n`,
      );
      const { stop } = await startAgents(kernel, agents);
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      let stopping: Promise<void> | undefined;
      const shutdown = (why: string): Promise<void> => {
        stopping ??= (async () => {
          process.stderr.write(`pm-arb run: ${why}, stopping agents\n`);
          await stop();
          await kernel.bus.close();
          process.stderr.write('pm-arb run: stopped\n');
          done();
        })();
        return stopping;
      };
      const offSignal = onShutdownSignal((sig) => shutdown(`${sig} received`));
      const keepAlive = setInterval(() => {}, 1 << 30);
      const timer =
        duration !== undefined
          ? setTimeout(() => void shutdown(`duration ${o.duration} reached`), duration)
          : undefined;
      await finished;
      if (timer) clearTimeout(timer);
      clearInterval(keepAlive);
      offSignal();
    });
}
