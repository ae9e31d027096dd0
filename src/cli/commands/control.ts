/**
 * `pm-arb halt [--reason TEXT] [--cancel-orders]` and `pm-arb resume [--reason TEXT]`: the kill switch, durable
 * and confirmed. It reaches the process running on DATA_DIR (`npm start`) through its control endpoint, else the
 * agents on the Redis bus (REDIS_URL); it records the state (store, Redis key) and returns once the trading
 * agents confirmed, or names those that did not (exit 1). `--cancel-orders`
 * first cancels every open order on the venues directly (venue credentials from the environment), so it works
 * with the bus and the trading processes down.
 */
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Kernel } from '../../core/agent.ts';
import { type Config, ConfigError, loadConfig, loadDotEnv } from '../../core/config.ts';
import type { SystemCommand } from '../../core/messages.ts';
import { redactSecrets } from '../../core/redact.ts';
import { type Db, redactUrl } from '../../store/db.ts';

// The Redis client, the bus, the logger and the store are loaded by the functions that use them, after the command
// has said what it does: loading them costs more CPU than the 0.5 s a command may take to its first line.

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
  // said at once, on stderr (stdout is the report)
  process.stderr.write(`(from Redis ${redactUrl(config.redisUrl)})\n`);
  const { createKernel } = await import('../../core/kernel.ts');
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

/**
 * HALT_ALL / RESUME, confirmed. In order: the process running on this DATA_DIR (`npm start`, `pm-arb run`,
 * `pm-arb dashboard`) through its control endpoint; else the Redis bus (REDIS_URL), recording the state in the
 * Redis key and the store (DATABASE_URL) and waiting for the trading agents with a recent heartbeat; else only
 * the store. True when every trading agent expected confirmed; "nobody listening" is a failure.
 */
async function send(command: SystemCommand['command'], reason: string): Promise<boolean> {
  loadDotEnv();
  const config = loadConfig();
  const verb = command === 'HALT_ALL' ? 'halt' : 'resume';
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const { connectProcess } = await import('../../dashboard/client.ts');
  const proc = connectProcess(config, { timeoutMs: 5_000 });
  if (proc) {
    try {
      const r = await proc.post<{ message: string }>(`/api/control/${verb}`, { reason, actor: issuer() });
      say(`${r.message} (reason: ${reason}; via the running pm-arb, pid ${proc.pid})`);
      return true;
    } catch (err) {
      say(`${command} NOT confirmed by the running pm-arb (pid ${proc.pid}): ${(err as Error).message}`);
      return false;
    }
  }
  const meta = { actor: issuer(), source: 'api' as const, remote: null, reason };
  if (config.redisUrl) {
    process.stderr.write(`${verb}: ${command} over Redis ${redactUrl(config.redisUrl)}\n`);
    const [
      { wallClock },
      { pingRedis, redisKillSwitch },
      { createBus },
      { createLogger },
      { createBusControl },
    ] = await Promise.all([
      import('../../core/clock.ts'),
      import('../../core/halt.ts'),
      import('../../core/kernel.ts'),
      import('../../core/log.ts'),
      import('../../dashboard/control.ts'),
    ]);
    try {
      await pingRedis(config.redisUrl, REDIS_DEADLINE_MS);
    } catch (err) {
      say(`${command} NOT delivered: ${(err as Error).message}`);
      if (config.databaseUrl) await recordOnly(config, command, meta, say);
      return false;
    }
    const instance = `cli-${hostname()}-${process.pid}`;
    const log = createLogger(config.logLevel);
    const bus = await createBus(config, 'redis', instance, log);
    const ks = redisKillSwitch({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, bus, instance });
    const db = config.databaseUrl ? await openStore(config, say) : undefined;
    try {
      const control = createBusControl({
        bus,
        db,
        clock: wallClock(),
        matchStore: undefined,
        strategies: async () => [],
        ...ks,
        controlKey: config.signing.controlKey,
      });
      const r = await (command === 'HALT_ALL' ? control.halt(meta) : control.resume(meta));
      say(`${r.message} (reason: ${reason})`);
      return true;
    } catch (err) {
      say(`${command} NOT confirmed: ${(err as Error).message}`);
      return false;
    } finally {
      await bus.close();
      await ks.haltStore.close();
      await db?.close();
    }
  }
  // nothing running to tell: record it where a later start reads it (an existing store only)
  if (config.databaseUrl || existsSync(resolve(config.dataDir, 'pglite')))
    await recordOnly(config, command, meta, say);
  throw new ConfigError(
    `no running pm-arb to ${verb}: no control endpoint under DATA_DIR (${config.dataDir}) and REDIS_URL is not set.\n` +
      'Start pm-arb (npm start) on this DATA_DIR, or set REDIS_URL for agents on the Redis bus, e.g. REDIS_URL=redis://127.0.0.1:6379',
  );
}

/** Deadline for reaching Redis before a halt is reported as not delivered. */
const REDIS_DEADLINE_MS = 5_000;

async function openStore(config: Config, say: (l: string) => void): Promise<Db | undefined> {
  try {
    const [{ openDbFromConfig }, { migrate }] = await Promise.all([
      import('../../store/db.ts'),
      import('../../store/migrations.ts'),
    ]);
    const db = await openDbFromConfig(config, { poolSize: 1, connectTimeoutMs: 3_000 });
    await migrate(db);
    return db;
  } catch (err) {
    say(`the store cannot be opened: ${redactSecrets((err as Error).message)}`);
    return undefined;
  }
}

/** Nothing to deliver the command to: records it in the store so agents that start later obey it. */
async function recordOnly(
  config: Config,
  command: SystemCommand['command'],
  meta: { actor: string; reason: string },
  say: (l: string) => void,
): Promise<void> {
  const db = await openStore(config, say);
  if (!db) return;
  const { writeSystemState } = await import('../../store/system-state.ts');
  try {
    const halted = command === 'HALT_ALL';
    await db.transaction((tx) =>
      writeSystemState(tx, {
        halted,
        haltReason: halted ? meta.reason : null,
        haltedBy: `api:${meta.actor}`,
        haltedAt: Date.now(),
      }),
    );
    say(
      `${command} recorded in the store (${db.location}): agents read it when they start; nobody confirmed it`,
    );
  } catch (err) {
    say(`${command} could not be recorded in the store: ${redactSecrets((err as Error).message)}`);
  } finally {
    await db.close();
  }
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
      'HALT_ALL: every trading agent stops taking new risk until `pm-arb resume`; waits for them to confirm',
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
        if (!(await send('HALT_ALL', opts.reason))) process.exitCode = 1;
        return;
      }
      const ok = await cancelOrdersOnVenues();
      if (!ok) process.exitCode = 1;
      const config = loadConfig();
      const { advertisedEndpoint } = await import('../../dashboard/client.ts');
      if (!config.redisUrl && !advertisedEndpoint(config.dataDir)) {
        process.stdout.write(
          'REDIS_URL is not set and no pm-arb runs on DATA_DIR: no HALT_ALL sent to agents (venue orders handled above)\n',
        );
        return;
      }
      try {
        if (!(await send('HALT_ALL', opts.reason))) process.exitCode = 1;
      } catch (e) {
        process.stdout.write(`HALT_ALL not sent: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
  program
    .command('resume')
    .description('RESUME: lift a HALT_ALL (or a pause) on every agent; waits for them to confirm')
    .option('--reason <text>', 'why', 'manual resume from the CLI')
    .action(async (opts: { reason: string }) => {
      if (!(await send('RESUME', opts.reason))) process.exitCode = 1;
    });
}
