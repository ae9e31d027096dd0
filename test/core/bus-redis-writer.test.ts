import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand, RespWriter } from '../../src/core/bus/redis-writer.ts';

const REDIS = 'redis://127.0.0.1:6379';
const prefix = `writer:${randomUUID()}:`;
const admin = new Redis(REDIS);
afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describe('redis writer (the bus write path)', () => {
  it('pipelines commands and reads back every kind of reply', async () => {
    const w = new RespWriter(REDIS);
    const k = `${prefix}k`;
    const cmds = [
      ['PING'],
      ['INCR', k],
      ['GET', `${prefix}missing`],
      ['RPUSH', `${prefix}l`, 'a', 'ünïcødé'],
      ['LRANGE', `${prefix}l`, '0', '-1'],
      ['NOSUCHCOMMAND'],
      ['INCR', k],
    ];
    const replies = await w.send(cmds.map(encodeCommand).join(''), cmds.length);
    expect(replies.slice(0, 5)).toEqual(['PONG', 1, null, 2, ['a', 'ünïcødé']]);
    expect(replies[5]).toBeInstanceOf(Error);
    expect((replies[5] as Error).message).toMatch(/unknown command/i);
    expect(replies[6]).toBe(2);
    await w.close();
  });

  it('handles replies split across reads (large values, many commands in flight)', async () => {
    const w = new RespWriter(REDIS);
    const big = 'x'.repeat(1_000_000);
    await w.send(encodeCommand(['SET', `${prefix}big`, big]), 1);
    const [v] = await w.send(encodeCommand(['GET', `${prefix}big`]), 1);
    expect(v).toBe(big);
    const sends = Array.from({ length: 50 }, (_, i) =>
      w.send(Array.from({ length: 200 }, () => encodeCommand(['INCR', `${prefix}n${i}`])).join(''), 200),
    );
    const all = await Promise.all(sends);
    expect(all.every((r, i) => r.length === 200 && r[199] === 200 && i >= 0)).toBe(true);
    await w.close();
    await expect(w.send(encodeCommand(['PING']), 1)).rejects.toThrow('writer closed');
  });
});
