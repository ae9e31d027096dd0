/**
 * The Redis bus over a unix socket (REDIS_URL=unix:///path/redis.sock[?db=N]): the bus's own connections (writer,
 * reader) and its ioredis ones (groups, claims) all reach the same Redis. Runs a private redis-server on a socket
 * in a temporary directory (redis-server is on PATH wherever the Redis tests run: .ci/run starts it from there).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { ioredisUrl } from '../../src/core/bus/redis-url.ts';
import { encodeCommand, RespWriter } from '../../src/core/bus/redis-writer.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { waitFor } from '../contract/bus-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-arb-unix-'));
const sock = join(dir, 'redis.sock');
let server: ChildProcess | undefined;

beforeAll(async () => {
  server = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(() => existsSync(sock), 'redis-server listens on its socket');
});
afterAll(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('REDIS_URL forms', () => {
  it('ioredis gets a unix socket as a bare path; other URLs unchanged', () => {
    expect(ioredisUrl('unix:///run/redis.sock?db=2')).toBe('/run/redis.sock?db=2');
    expect(ioredisUrl('redis://h:6379/1')).toBe('redis://h:6379/1');
    expect(loadConfig({ REDIS_URL: 'unix:///run/redis.sock' }).redisUrl).toBe('unix:///run/redis.sock');
  });
});

describe('redis bus over a unix socket', () => {
  it('the writer selects the db of ?db=', async () => {
    const w = new RespWriter(`unix://${sock}?db=3`);
    const [set] = await w.send(encodeCommand(['SET', 'unix-k', 'v']), 1);
    expect(set).toBe('OK');
    await w.close();
    const r = new Redis(ioredisUrl(`unix://${sock}?db=3`));
    expect(await r.get('unix-k')).toBe('v');
    r.disconnect();
  });

  it('publishes and delivers, and acks, over the socket', async () => {
    const ch = channels.custom(`unix.${process.pid}`, z.object({ n: z.number().int() }));
    const b = createRedisBus({ url: `unix://${sock}`, name: 'unix', keyPrefix: 'u:', log: silentLogger() });
    const got: number[] = [];
    b.subscribe(ch, { group: 'g' }, (m) => {
      got.push(m.body.n);
    });
    await b.flush();
    for (let n = 0; n < 50; n++) b.publish(ch, { n });
    await waitFor(() => got.length === 50, 'every message delivered');
    expect(got).toEqual(Array.from({ length: 50 }, (_, n) => n));
    await b.close();
    const r = new Redis(sock);
    const [pending] = (await r.call('XPENDING', `u:${ch.name}`, 'g')) as unknown[];
    expect(pending).toBe(0); // every delivery acked
    r.disconnect();
  });
});
