/**
 * `pm-arb halt [--reason TEXT]` and `pm-arb resume [--reason TEXT]`: publish a SystemCommand on the Redis bus
 * (REDIS_URL), which every running agent receives in a consumer group of its own.
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
    .action(async (opts: { reason: string }) => {
      await send('HALT_ALL', opts.reason);
    });
  program
    .command('resume')
    .description('RESUME: lift a HALT_ALL (or a pause) on every agent (needs REDIS_URL)')
    .option('--reason <text>', 'why', 'manual resume from the CLI')
    .action(async (opts: { reason: string }) => {
      await send('RESUME', opts.reason);
    });
}
