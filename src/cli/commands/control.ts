/**
 * `pm-arb halt [--reason TEXT] [--cancel-orders]` and `pm-arb resume [--reason TEXT]`: publish a SystemCommand on
 * the Redis bus (REDIS_URL), which every running agent receives in a consumer group of its own. `--cancel-orders`
 * first cancels every open order on the venues directly (venue credentials from the environment), so it works
 * with the bus and the trading processes down.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Kernel } from '../../core/agent.ts';
import { channels } from '../../core/channels.ts';
import { ConfigError, loadConfig, loadDotEnv } from '../../core/config.ts';
import { createKernel } from '../../core/kernel.ts';
import type { SystemCommand } from '../../core/messages.ts';

/** A kernel on the Redis bus for a short-lived CLI command; closes the bus when `fn` is done. */
export async function withRedisKernel<T>(what: string, fn: (k: Kernel) => Promise<T>): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.redisUrl) {
    throw new ConfigError(
      `REDIS_URL is not set: ${what} talks to the agents over the Redis bus.\n` +
        'Set it in the environment or .env, e.g. REDIS_URL=redis://127.0.0.1:6379',
    );
  }
  const kernel = await createKernel({
    config,
    transport: 'redis',
    instance: `cli-${hostname()}-${process.pid}`,
  });
  try {
    return await fn(kernel);
  } finally {
    await kernel.bus.close();
  }
}

function issuer(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `cli:${user}@${hostname()}`;
}

async function send(command: SystemCommand['command'], reason: string): Promise<void> {
  await withRedisKernel(`pm-arb ${command === 'HALT_ALL' ? 'halt' : 'resume'}`, async (k) => {
    const cmd: SystemCommand = {
      type: 'system',
      command,
      reason,
      issuedBy: issuer(),
      issuedAt: k.clock.now(),
    };
    k.bus.publish(channels.system, cmd);
    await k.bus.flush();
  });
  process.stdout.write(`${command} sent (reason: ${reason})\n`);
}

/** Cancels every open order on each configured venue; prints one line per venue; false when any failed. */
async function cancelOrdersOnVenues(): Promise<boolean> {
  loadDotEnv();
  const config = loadConfig();
  // loaded here, not at start: the venue clients pull in viem and the Polymarket SDK (seconds of start-up)
  const { cancelEverywhere } = await import('../../execution/cancel-everywhere.ts');
  const { NotionalCaps } = await import('../../venues/live/caps.ts');
  const { liveClientsFromConfig } = await import('../../venues/live/from-config.ts');
  // caps only matter for sending orders; a cancel sends none
  const caps = new NotionalCaps({
    maxOrder: config.live.maxOrderUsd,
    maxDaily: config.live.maxDailyUsd,
    now: Date.now,
  });
  const { clients, problems } = liveClientsFromConfig(config, { now: Date.now, caps });
  if (clients.length === 0) {
    throw new ConfigError(`no venue credentials to cancel orders with:\n  ${problems.join('\n  ')}`);
  }
  try {
    const result = await cancelEverywhere(clients);
    for (const v of result.venues) {
      const state = v.error
        ? `FAILED: ${v.error}`
        : v.remaining.length > 0
          ? `${v.remaining.length} order(s) still open: ${v.remaining.join(', ')}`
          : 'no open orders left';
      process.stdout.write(`${v.venue}: cancelled ${v.cancelled.length} order(s); ${state}\n`);
    }
    for (const p of problems) process.stdout.write(`skipped ${p}\n`);
    return result.ok;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

export function registerControlCommands(program: Command): void {
  program
    .command('halt')
    .description(
      'HALT_ALL: every trading agent stops taking new risk until `pm-arb resume` (needs REDIS_URL)',
    )
    .option(
      '--reason <text>',
      'why, shown in the agents’ logs and on the dashboard',
      'manual halt from the CLI',
    )
    .option(
      '--cancel-orders',
      'first cancel every open order on Polymarket and Kalshi directly through their APIs (works with the bus and the trading processes down)',
    )
    .action(async (opts: { reason: string; cancelOrders?: boolean }) => {
      if (!opts.cancelOrders) {
        await send('HALT_ALL', opts.reason);
        return;
      }
      const ok = await cancelOrdersOnVenues();
      if (!ok) process.exitCode = 1;
      if (!loadConfig().redisUrl) {
        process.stdout.write(
          'REDIS_URL is not set: no HALT_ALL sent to agents (venue orders handled above)\n',
        );
        return;
      }
      try {
        await send('HALT_ALL', opts.reason);
      } catch (e) {
        process.stdout.write(`HALT_ALL not sent: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
  program
    .command('resume')
    .description('RESUME: lift a HALT_ALL (or a pause) on every agent (needs REDIS_URL)')
    .option('--reason <text>', 'why', 'manual resume from the CLI')
    .action(async (opts: { reason: string }) => {
      await send('RESUME', opts.reason);
    });
}
