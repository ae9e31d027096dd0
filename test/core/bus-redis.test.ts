import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { silentLogger } from '../../src/core/log.ts';
import { busContract } from '../contract/bus-contract.ts';

const URL = 'redis://127.0.0.1:6379';
const admin = new Redis(URL);
let prefix = '';

async function dropKeys(p: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
}

beforeEach(() => {
  prefix = `test:${randomUUID()}:`;
});
afterEach(async () => {
  await dropKeys(prefix);
});
afterAll(async () => {
  await admin.quit();
});

busContract(
  'redis',
  async (o) =>
    createRedisBus({
      url: URL,
      name: 'contract',
      maxLen: o?.maxLen ?? 10_000,
      keyPrefix: prefix,
      log: silentLogger(),
    }),
  { visibilityMs: 300, shared: true, retentionSlack: 100 },
);
