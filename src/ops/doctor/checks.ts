/**
 * The checks of `pm-arb doctor` that are not about a venue: configuration, Redis, PostgreSQL and migrations,
 * disk space for PGlite, the Anthropic key, the alert channels. Each returns lines with the fix; nothing here
 * changes state except the test alert, sent only when asked for.
 */
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import type { AlertCandidate } from '../../alerts/engine.ts';
import { channelsFromConfig } from '../../alerts/notifier.ts';
import { ioredisUrl } from '../../core/bus/redis-url.ts';
import { type Db, errText, openDbFromConfig, redactUrl } from '../../store/db.ts';
import { migrationStatus } from '../../store/migrations.ts';
import { type Check, type CheckResult, fail, http, ok, parseJson, skip, warn } from './types.ts';

const MiB = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Settings that are valid one by one but risky together. (Invalid ones never get here: see runDoctor.) */
export const configCheck: Check = async ({ config }) => {
  const out: CheckResult[] = [];
  const mode = config.paperTrading ? 'paper trading' : 'LIVE trading configured (PAPER_TRADING=false)';
  out.push(
    ok(
      'config',
      `valid: ${mode}, bus ${config.redisUrl ? 'Redis' : 'in-process'}, store ${config.databaseUrl ? 'PostgreSQL' : 'PGlite'}`,
    ),
  );
  if (!LOOPBACK.has(config.dashboard.host) && !config.dashboard.controlToken)
    out.push(
      warn(
        'config.dashboard',
        `DASHBOARD_HOST=${config.dashboard.host} is reachable from other machines and CONTROL_TOKEN is not set`,
        'set CONTROL_TOKEN (a long random string) or keep DASHBOARD_HOST=127.0.0.1 behind a proxy with authentication',
      ),
    );
  if (config.redisUrl && !config.databaseUrl)
    out.push(
      warn(
        'config.store',
        'REDIS_URL is set but DATABASE_URL is not: agents in separate processes cannot share the embedded PGlite',
        'set DATABASE_URL to a PostgreSQL server for `pm-arb agent` deployments',
      ),
    );
  return out;
};

export const redisCheck: Check = async (ctx) => {
  const url = ctx.config.redisUrl;
  if (!url) return [skip('redis', 'REDIS_URL not set: single-process mode (pm-arb run, in-process bus)')];
  const shown = redactUrl(url);
  const redis = new Redis(ioredisUrl(url), {
    lazyConnect: true,
    connectTimeout: ctx.timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  redis.on('error', (err) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
    const info = `${await redis.info('server')}\n${await redis.info('persistence')}`;
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const aof = /aof_enabled:(\d)/.exec(info)?.[1] === '1';
    if (!aof)
      return [
        warn(
          'redis',
          `${shown} reachable (Redis ${version}) but AOF persistence is off: a Redis restart loses messages not yet handled`,
          'run Redis with --appendonly yes (compose.yaml does), or `CONFIG SET appendonly yes` and persist it in redis.conf',
        ),
      ];
    return [ok('redis', `${shown} reachable (Redis ${version}, AOF on)`)];
  } catch (err) {
    // ioredis reports "Connection is closed"; the socket's own error says why
    const why = errText(lastError ?? err);
    const auth = /NOAUTH|WRONGPASS|invalid password/i.test(why);
    return [
      fail(
        'redis',
        `cannot reach Redis at ${shown}: ${why}`,
        auth
          ? 'put the right user and password in REDIS_URL (redis://user:password@host:6379)'
          : 'start Redis (e.g. `redis-server --appendonly yes`, or `docker compose up -d redis`) or correct REDIS_URL',
      ),
    ];
  } finally {
    redis.disconnect();
  }
};

export const databaseCheck: Check = async (ctx) => {
  const { config } = ctx;
  const pgliteDir = resolve(config.dataDir, 'pglite');
  if (!config.databaseUrl && !existsSync(pgliteDir))
    return [
      ok(
        'database',
        `embedded PGlite (${pgliteDir}) not created yet: the first \`pm-arb run\` creates and migrates it`,
      ),
    ];
  let db: Db;
  try {
    db = await openDbFromConfig(config, { connectTimeoutMs: ctx.timeoutMs, poolSize: 1 });
  } catch (err) {
    const why = errText(err);
    if (/in use by process/.test(why))
      return [
        warn(
          'database',
          why,
          'run `pm-arb doctor` while the system is stopped, or use DATABASE_URL (PostgreSQL)',
        ),
      ];
    return [
      fail(
        'database',
        why,
        config.databaseUrl
          ? 'start PostgreSQL (or `docker compose up -d postgres`), check DATABASE_URL, its user and password'
          : 'check DATA_DIR is writable and not used by another process',
      ),
    ];
  }
  try {
    const st = await migrationStatus(db);
    const out: CheckResult[] = [
      ok('database', `${db.backend === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${db.location} reachable`),
    ];
    if (st.pending.length > 0)
      out.push(
        fail(
          'migrations',
          `${st.pending.length} pending: ${st.pending.map((m) => `${m.version} ${m.name}`).join(', ')}`,
          'run `pm-arb db migrate` (the one-shot `migrate` service in compose.yaml) before starting the agents',
        ),
      );
    else out.push(ok('migrations', `current (version ${Math.max(...st.applied.map((m) => m.version))})`));
    return out;
  } catch (err) {
    return [
      fail(
        'database',
        `query failed: ${errText(err)}`,
        'check the database user can read and create tables in its schema',
      ),
    ];
  } finally {
    await db.close();
  }
};

export const diskCheck: Check = async ({ config }) => {
  let dir = resolve(config.dataDir);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return [
      fail('disk', `${dir} is not writable`, `make DATA_DIR (${config.dataDir}) writable by this user`),
    ];
  }
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  const text = `${(free / 1024 / MiB).toFixed(1)} GiB free under ${dir}`;
  const uses = config.databaseUrl ? 'match cache and captures' : 'PGlite, match cache and captures';
  if (free < 256 * MiB)
    return [fail('disk', `${text} (${uses})`, 'free disk space, or point DATA_DIR at a larger volume')];
  if (free < 2048 * MiB)
    return [
      warn('disk', `${text} (${uses})`, 'free space or run `pm-arb db prune`; PGlite grows with history'),
    ];
  return [ok('disk', `${text} (${uses})`)];
};

export const anthropicCheck: Check = async (ctx) => {
  const { apiKey, baseUrl, model } = ctx.config.anthropic;
  if (!apiKey) return [skip('anthropic', 'ANTHROPIC_API_KEY not set: the matcher runs rules-only')];
  const client = new Anthropic({
    apiKey,
    baseURL: baseUrl ?? 'https://api.anthropic.com',
    timeout: ctx.timeoutMs,
    maxRetries: 0,
  });
  try {
    // free: no tokens are spent, and it proves the key and the model name at once
    const m = await client.models.retrieve(model);
    return [ok('anthropic', `key accepted; model ${m.id} available`)];
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 403)
      return [
        fail(
          'anthropic',
          `ANTHROPIC_API_KEY rejected (HTTP ${status})`,
          'create a new key in the Anthropic console and set ANTHROPIC_API_KEY',
        ),
      ];
    if (status === 404)
      return [
        fail('anthropic', `model ${model} not found`, 'set ANTHROPIC_MODEL to a model your key can use'),
      ];
    return [
      fail(
        'anthropic',
        `${baseUrl ?? 'https://api.anthropic.com'} ${status ? `answered HTTP ${status}` : `unreachable: ${errText(err)}`}`,
        'check the network and ANTHROPIC_BASE_URL; without the LLM the matcher runs rules-only',
      ),
    ];
  }
};

export const alertsCheck: Check = async (ctx) => {
  const { config } = ctx;
  const channels = channelsFromConfig(config);
  if (channels.length === 0)
    return [
      warn(
        'alerts',
        'no alert channel configured: a halt or a dead feed reaches nobody',
        'set PUSHOVER_USER_KEY and PUSHOVER_API_TOKEN (phone), and/or ALERT_WEBHOOK_URL (Slack/Discord)',
      ),
    ];
  const out: CheckResult[] = [];
  const now = ctx.now();
  const test: AlertCandidate = {
    id: `doctor-test@${now}`,
    kind: 'test',
    key: 'doctor-test',
    level: 'info',
    title: 'pm-arb test alert',
    body: `Sent by \`pm-arb doctor --send-test-alert\` on ${hostname()} at ${new Date(now).toISOString()}: alerts reach you.`,
    priority: 0,
    ts: now,
  };
  for (const ch of channels) {
    const name = `alerts.${ch.name}`;
    if (ctx.sendTestAlert) {
      try {
        const status = await ch.send(test, AbortSignal.timeout(ctx.timeoutMs));
        out.push(ok(name, `test message delivered (HTTP ${status})`));
      } catch (err) {
        out.push(
          fail(
            name,
            `test message not delivered: ${errText(err)}`,
            ch.name === 'pushover'
              ? 'check PUSHOVER_API_TOKEN (the application token) and PUSHOVER_USER_KEY'
              : 'check ALERT_WEBHOOK_URL (the incoming-webhook URL of the Slack/Discord channel)',
          ),
        );
      }
    } else if (ch.name === 'pushover') out.push(await validatePushover(ctx, name));
    else out.push(skip(name, 'configured; not tested (`--send-test-alert` sends a test message)'));
  }
  return out;
};

/** Pushover's users/validate: proves the token and user key without sending anything. */
async function validatePushover(ctx: Parameters<Check>[0], name: string): Promise<CheckResult> {
  const { apiToken, userKey, apiUrl } = ctx.config.pushover;
  try {
    const r = await http(ctx, `${apiUrl.replace(/\/+$/, '')}/1/users/validate.json`, {
      method: 'POST',
      body: new URLSearchParams({ token: apiToken!, user: userKey! }),
    });
    const b = parseJson(r.text) as { status?: number; errors?: string[] } | undefined;
    if (r.status === 200 && b?.status === 1)
      return ok(name, 'token and user key valid (`--send-test-alert` sends a test message)');
    return fail(
      name,
      `credentials refused: ${(b?.errors ?? [r.text.slice(0, 200)]).join('; ')}`,
      'check PUSHOVER_API_TOKEN and PUSHOVER_USER_KEY',
    );
  } catch (err) {
    return fail(name, `${apiUrl} unreachable: ${errText(err)}`, 'check the network and PUSHOVER_API_URL');
  }
}
