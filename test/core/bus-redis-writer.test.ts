import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand, RespBuffer, RespWriter } from '../../src/core/bus/redis-writer.ts';

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

describe('RESP buffer', () => {
  it('sends commands with a tail behind them in one buffer, each settled apart, before and after connecting', async () => {
    const w = new RespWriter(REDIS);
    const k = `${prefix}tail`;
    const done: boolean[] = [];
    // not connected yet: both wait for the connection, in order
    const first = w.execWithTail([['INCR', k]], {
      payload: encodeCommand(['INCRBY', k, '10']) + encodeCommand(['GET', k]),
      count: 2,
      done: (ok) => done.push(ok),
    });
    expect(await first).toEqual([1]);
    const second = await w.execWithTail([['INCR', k]], {
      payload: encodeCommand(['INCRBY', k, 'ünï']),
      count: 1,
      done: (ok) => done.push(ok),
    });
    expect(second).toEqual([12]);
    // the tail's replies (an error among them) settle it, in the same read as the commands' ahead of it
    expect(done).toEqual([true, true]);
    expect(await admin.get(k)).toBe('12');
    await w.close();
  });

  it('encodes bulk strings byte-exactly, multi-byte characters included, and grows as needed', () => {
    const b = new RespBuffer(8);
    b.raw(Buffer.from('*2\r\n'));
    b.bulk('ünï');
    b.bulk('x'.repeat(100));
    const out = b.take().toString('utf8');
    expect(out).toBe(`*2\r\n$5\r\nünï\r\n$100\r\n${'x'.repeat(100)}\r\n`);
    expect(out).toBe(encodeCommand(['ünï', 'x'.repeat(100)]));
    expect(b.length).toBe(0);
    b.bulk('');
    expect(b.take().toString()).toBe('$0\r\n\r\n');
  });

  it('hands over bursts that stay as they were while the buffer is written again, small and large', () => {
    const b = new RespBuffer(64);
    b.command(1);
    b.bulk('first');
    const small = b.take();
    b.command(1);
    b.bulk('second');
    const next = b.take();
    b.bulk('y'.repeat(10_000));
    const large = b.take();
    b.bulk('after');
    expect(small.toString()).toBe(encodeCommand(['first']));
    expect(next.toString()).toBe(encodeCommand(['second']));
    expect(large.toString()).toBe(`$10000\r\n${'y'.repeat(10_000)}\r\n`);
    expect(b.take().toString()).toBe('$5\r\nafter\r\n');
  });
});
