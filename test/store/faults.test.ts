/**
 * Database faults: down at start → a clear error (and a non-zero exit from the CLI); gone while running → the
 * persister retries with backoff, keeps the messages unacked, and loses nothing when the database returns.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersister } from '../../src/agents/persister.ts';
import { createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { type Db, DbUnavailableError, openDb } from '../../src/store/db.ts';
import { loadFills } from '../../src/store/queries.ts';
import { freePort } from '../helpers/net.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';
import * as S from './samples.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const root = join(import.meta.dirname, '..', '..');

/** A port nothing listens on. */
const deadPort = freePort;

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('database down at start', () => {
  it('openDb fails with a message that names the server and what to do', async () => {
    const port = await deadPort();
    const err = await openDb({
      url: `postgres://postgres:secret@127.0.0.1:${port}/test`,
      connectTimeoutMs: 2_000,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DbUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toContain(`cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:${port}/test`);
    expect(msg).toContain('ECONNREFUSED');
    expect(msg).toContain('DATABASE_URL');
    expect(msg).not.toContain('secret');
  });

  it('`pm-arb db status` exits non-zero with that message', async () => {
    const port = await deadPort();
    const r = spawnSync(process.execPath, [join(root, 'bin', 'pm-arb.js'), 'db', 'status'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pm-arb: cannot connect to PostgreSQL');
    expect(r.stdout).toBe('');
  });

  it('`pm-arb agent persister` exits non-zero with that message', async () => {
    const port = await deadPort();
    const r = spawnSync(process.execPath, [join(root, 'bin', 'pm-arb.js'), 'agent', 'persister'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        REDIS_KEY_PREFIX: `test:store-faults:${process.pid}:`,
        LOG_LEVEL: 'silent',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `pm-arb: cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:${port}/test`,
    );
  });
});

describe('database lost while running (PostgreSQL behind a TCP proxy)', () => {
  let proxy: TcpProxy;
  let db: Db;
  const schema = testSchema('faults');

  beforeAll(async () => {
    const target = new URL(TEST_PG_URL);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const via = new URL(TEST_PG_URL);
    via.port = String(proxy.port);
    db = await openDb({ url: via.toString(), schema, connectTimeoutMs: 1_000 });
  });

  afterAll(async () => {
    const direct = await openDb({ url: TEST_PG_URL });
    await direct.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await direct.close();
    await db?.close();
    await proxy?.close();
  });

  it('retries with backoff, keeps messages unacked, writes everything once the database is back', async () => {
    const bus = createInProcBus({ name: 'fault' });
    const kernel: Kernel = {
      config: loadConfig({}),
      bus,
      clock: wallClock(),
      log: createLogger('silent'),
      ids: createIds('fault'),
      instance: 'fault-1',
    };
    const persister = createPersister({
      db,
      flushIntervalMs: 5,
      retryBaseMs: 20,
      retryMaxMs: 200,
      pruneEveryMs: 0,
    });
    const agents = await startAgents(kernel, [persister], { heartbeatMs: 600_000 });
    const fills = Array.from({ length: 600 }, (_, i) => S.fill(i));

    for (const f of fills.slice(0, 200)) bus.publish(channels.fills, f);
    await bus.idle();
    await persister.flush();
    const ackedBefore = bus.stats().acked;

    proxy.cut();
    for (const f of fills.slice(200, 400)) bus.publish(channels.fills, f);
    await bus.idle();
    await until('several failed writes', () => (persister.health().writeFailures as number) >= 3);
    // more arrive during the outage
    for (const f of fills.slice(400)) bus.publish(channels.fills, f);
    await bus.idle();
    await until('more failed writes', () => (persister.health().writeFailures as number) >= 5);
    expect(bus.stats().acked).toBe(ackedBefore);
    expect(persister.health().buffered).toBe(400);
    expect(String(persister.health().lastError)).not.toBe('null');

    proxy.restore();
    await persister.flush();
    expect(persister.health().buffered).toBe(0);
    const st = bus.stats();
    expect(st.acked).toBe(st.delivered);
    // every fill once, in time order (arrival order within a millisecond)
    expect(await loadFills(db)).toEqual(fills);
    await agents.stop();
    await bus.close();
  });
});
