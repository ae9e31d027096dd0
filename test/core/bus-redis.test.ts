import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import { silentLogger } from '../../src/core/log.ts';
import { busContract, sleep, waitFor } from '../contract/bus-contract.ts';
import { until } from '../helpers/procs.ts';

const REDIS = 'redis://127.0.0.1:6379';
const admin = new Redis(REDIS);
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
      url: REDIS,
      name: 'contract',
      maxLen: o?.maxLen ?? 10_000,
      keyPrefix: prefix,
      log: silentLogger(),
    }),
  { visibilityMs: 300, shared: true, retentionSlack: 100 },
);

// ---------------------------------------------------------------- Redis-only cases

const Num = z.object({ n: z.number().int() });
let seq = 0;
const chan = (label: string) => channels.custom(`redis-extra.${label}.${process.pid}.${++seq}`, Num);
const bus = (url = REDIS, name = 'extra') =>
  createRedisBus({ url, name, maxLen: 10_000, keyPrefix: prefix, log: silentLogger() });

describe('redis transport', () => {
  it('reads every subscription of a process through one reader connection', async () => {
    const name = `conns-${randomUUID().slice(0, 8)}`;
    const b = bus(REDIS, name);
    const got = new Map<string, number>();
    const chans = Array.from({ length: 12 }, (_, i) => chan(`conns${i}`));
    chans.forEach((ch, i) => {
      // a group per subscription, as the agents of one process have
      b.subscribe(ch, { group: `g${i}` }, (m) => {
        got.set(ch.name, m.body.n);
      });
    });
    await b.flush();
    chans.forEach((ch, i) => {
      b.publish(ch, { n: i });
    });
    await waitFor(() => got.size === chans.length, 'every subscription gets its message');
    expect(chans.map((ch) => got.get(ch.name))).toEqual(chans.map((_, i) => i));
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const mine = list
      .split('\n')
      .map((l) => /\bname=(\S*)/.exec(l)?.[1] ?? '')
      .filter((n) => n.startsWith(`pm-arb:${name}:`))
      .sort();
    // the command connection and the one reader (the writer is the bus's own lean socket)
    expect(mine).toEqual([`pm-arb:${name}:cmd`, `pm-arb:${name}:reader`]);
    await b.close();
  });

  it('acks ride the reader: a process that only consumes makes no write of its own for them', async () => {
    const producer = bus();
    const consumer = createRedisBus({
      url: REDIS,
      name: 'acks',
      keyPrefix: prefix,
      log: silentLogger(),
      blockMs: 200,
    });
    // every write of the bus's writer connection (publishes, and acks with nothing to ride)
    const writer = (consumer as unknown as { writer: { send: (...a: unknown[]) => unknown } }).writer;
    let writes = 0;
    const send = writer.send.bind(writer);
    writer.send = (...a: unknown[]) => {
      writes++;
      return send(...a);
    };
    const ch = chan('acks');
    const key = prefix + ch.name;
    const got: number[] = [];
    consumer.subscribe(ch, { group: 'g' }, (m) => {
      got.push(m.body.n);
    });
    await consumer.flush();
    for (let n = 0; n < 20; n++) {
      producer.publish(ch, { n });
      await waitFor(() => got.length === n + 1, `message ${n}`);
    }
    // each ack went out behind the read that followed its message (the last one's within that read's wait)
    await until(
      'every message acked',
      async () => Number((await admin.xpending(key, 'g'))[0]) === 0,
      5_000,
      20,
    );
    expect(got).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(writes).toBe(0);
    expect(consumer.stats().acked).toBe(20);
    await consumer.close();
    await producer.close();
  });

  it('a lazy subscription is not woken by its own messages: they come with another delivery, first', async () => {
    const b = createRedisBus({
      url: REDIS,
      name: 'lazy',
      keyPrefix: prefix,
      log: silentLogger(),
      blockMs: 10_000,
    });
    const producer = bus();
    const [lazyCh, eagerCh] = [chan('lazy'), chan('eager')];
    const log: string[] = [];
    b.subscribe(lazyCh, { group: 'g', lazyMs: 10_000 }, (m) => {
      log.push(`lazy ${m.body.n}`);
    });
    b.subscribe(eagerCh, { group: 'g' }, (m) => {
      log.push(`eager ${m.body.n}`);
    });
    await b.flush();
    // both reading (the eager one's first read, a poll, took the lazy one's along)
    producer.publish(eagerCh, { n: 0 });
    await waitFor(() => log.length === 1, 'the first read');
    log.length = 0;
    // let the reader settle into its blocking read: a poll it makes right after a delivery takes lazy streams along
    // (on purpose), and messages published before that poll would come with it
    await sleep(300);
    producer.publish(lazyCh, { n: 1 });
    producer.publish(lazyCh, { n: 2 });
    await producer.flush();
    // 10 s from its deadline, and nothing else came: it waits
    await sleep(200);
    expect(log).toEqual([]);
    producer.publish(eagerCh, { n: 3 });
    await waitFor(() => log.length === 3, 'all three');
    expect(log).toEqual(['lazy 1', 'lazy 2', 'eager 3']);
    await b.close();
    await producer.close();
  });

  it('a lazy subscription gets its messages within lazyMs when nothing else comes', async () => {
    const b = bus();
    const producer = bus();
    const [lazyCh, quietCh] = [chan('lazy'), chan('quiet')];
    const got: number[] = [];
    b.subscribe(lazyCh, { group: 'g', lazyMs: 30 }, (m) => {
      got.push(m.body.n);
    });
    b.subscribe(quietCh, { group: 'g' }, () => {});
    await b.flush();
    for (let n = 0; n < 5; n++) {
      producer.publish(lazyCh, { n });
      await waitFor(() => got.length === n + 1, `message ${n}`);
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    await b.close();
    await producer.close();
  });

  it('dead-letters malformed entries written to the stream by someone else, and goes on', async () => {
    const b = bus();
    const ch = chan('malformed');
    const good: number[] = [];
    const dead: DeadLetter[] = [];
    b.subscribe(ch, { group: 'g' }, (m) => {
      good.push(m.body.n);
    });
    b.subscribe(channels.deadLetter(ch), { group: 'dlq' }, (m) => {
      dead.push(m.body);
    });
    await b.flush();
    const key = prefix + ch.name;
    await admin.xadd(key, '*', 'garbage', 'yes');
    await admin.xadd(key, '*', 'i', 'raw-2', 'd', '{not json');
    await admin.xadd(key, '*', 'i', 'raw-3', 'd', '{"n":"seven"}');
    b.publish(ch, { n: 4 });
    await waitFor(() => dead.length === 3 && good.length === 1, 'three dead letters and one good message');
    expect(good).toEqual([4]);
    expect(dead.map((d) => d.group)).toEqual(['g', 'g', 'g']);
    expect(dead[0]!.error).toMatch(/malformed entry/);
    expect(dead[0]!.body).toEqual({ garbage: 'yes' });
    expect(dead[1]).toMatchObject({ messageId: 'raw-2', body: '{not json' });
    expect(dead[1]!.error).toMatch(/not JSON/);
    expect(dead[2]).toMatchObject({ messageId: 'raw-3', body: { n: 'seven' } });
    expect(dead[2]!.error).toMatch(/failed validation/);
    // nothing is left pending: every bad entry was acked (acks ride the reader's next read: within its wait)
    await until(
      'every entry acked',
      async () => Number((await admin.xpending(key, 'g'))[0]) === 0,
      5_000,
      20,
    );
    await b.close();
  });

  it('leaves no litter: an ephemeral group is deleted on close, an idle consumer name is removed', async () => {
    const b = bus();
    const ch = chan('tidy');
    const key = prefix + ch.name;
    const got: number[] = [];
    const eph = b.subscribe(ch, { group: 'per-process', consumer: 'p1', ephemeral: true }, (m) => {
      got.push(m.body.n);
    });
    const lasting = b.subscribe(ch, { group: 'lasting', consumer: 'w1' }, () => {});
    await b.flush();
    b.publish(ch, { n: 1 });
    await waitFor(() => got.length === 1, 'the message');
    await sleep(50);
    const groups = async () => ((await admin.call('XINFO', 'GROUPS', key)) as unknown[][]).map((g) => g[1]);
    expect((await groups()).sort()).toEqual(['lasting', 'per-process']);
    await eph.close();
    await lasting.close();
    expect(await groups()).toEqual(['lasting']);
    expect(await admin.call('XINFO', 'CONSUMERS', key, 'lasting')).toEqual([]);
    await b.close();
  });

  it('rides out Redis going away for ~2 s: reconnects, resumes, loses nothing', async () => {
    const proxy = await startProxy(6379);
    const viaProxy = bus(`redis://127.0.0.1:${proxy.port}`, 'proxied');
    const direct = bus();
    const ch = chan('outage');
    const got = new Set<number>();
    viaProxy.subscribe(ch, { group: 'g', visibilityTimeoutMs: 1_000 }, (m) => {
      got.add(m.body.n);
    });
    await viaProxy.flush();
    for (let i = 0; i < 100; i++) viaProxy.publish(ch, { n: i });
    await waitFor(() => got.size === 100, 'the first 100');
    await proxy.cut();
    // while Redis is unreachable: the proxied bus queues its publishes; others keep publishing
    for (let i = 100; i < 200; i++) viaProxy.publish(ch, { n: i });
    for (let i = 200; i < 300; i++) direct.publish(ch, { n: i });
    await direct.flush();
    await sleep(2_000);
    expect(got.size).toBe(100);
    await proxy.restore();
    await waitFor(() => got.size === 300, 'all 300 after the outage', 20_000);
    await viaProxy.close();
    await direct.close();
    await proxy.close();
  });

  it('still closes when Redis is unreachable, giving pending writes a bounded time', async () => {
    const proxy = await startProxy(6379);
    const b = createRedisBus({
      url: `redis://127.0.0.1:${proxy.port}`,
      name: 'cut-off',
      keyPrefix: prefix,
      log: silentLogger(),
      closeTimeoutMs: 300,
    });
    const ch = chan('cut-off');
    b.subscribe(ch, { group: 'g' }, () => {});
    await b.flush();
    await proxy.cut();
    b.publish(ch, { n: 1 });
    await b.close(); // resolves although the publish can never be written
    expect(b.stats().published).toBe(1);
    await proxy.close();
  });

  it('lets another consumer claim the pending messages of a SIGKILLed consumer process', async () => {
    const ch = chan('sigkill');
    const key = prefix + ch.name;
    const b = bus();
    // the group exists before anything is published
    await admin.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', doomedConsumer(prefix, ch.name)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.includes('ready'), 'the child to subscribe', 20_000);
    const ids = [0, 1, 2, 3, 4].map((n) => b.publish(ch, { n }));
    await b.flush();
    await waitFor(() => ids.every((id) => out.includes(`got ${id}`)), 'the child to take all five', 10_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const rescued: { id: string; attempt: number }[] = [];
    b.subscribe(ch, { group: 'g', consumer: 'rescuer', visibilityTimeoutMs: 300 }, (m) => {
      rescued.push({ id: m.id, attempt: m.attempt });
    });
    await waitFor(() => rescued.length === 5, 'the rescuer to claim all five');
    expect(rescued.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rescued.every((r) => r.attempt === 2)).toBe(true);
    await sleep(300);
    expect(await admin.xpending(key, 'g')).toEqual([0, null, null, null]);
    await b.close();
  });
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A consumer that takes messages and never acks them, to be SIGKILLed. */
function doomedConsumer(keyPrefix: string, channelName: string): string {
  const mod = pathToFileURL(`${ROOT}src/core/bus/redis.ts`).href;
  const chMod = pathToFileURL(`${ROOT}src/core/channels.ts`).href;
  return `
    import { createRedisBus } from ${JSON.stringify(mod)};
    import { channels } from ${JSON.stringify(chMod)};
    import { z } from 'zod';
    const ch = channels.custom(${JSON.stringify(channelName.replace(/^pmarb\.x\./, ''))}, z.object({ n: z.number() }));
    const bus = createRedisBus({ url: ${JSON.stringify(REDIS)}, name: 'doomed', keyPrefix: ${JSON.stringify(keyPrefix)} });
    bus.subscribe(ch, { group: 'g', consumer: 'doomed', ack: 'manual', visibilityTimeoutMs: 60000 }, (m) => {
      process.stdout.write('got ' + m.id + '\\n');
    });
    await bus.flush();
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
}

interface Proxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of Redis that can be cut (every connection dropped, new ones refused). */
async function startProxy(targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const onConn = (client: Socket): void => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  };
  let server: Server = createServer(onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  };
  return {
    port,
    cut: stop,
    async restore() {
      server = createServer(onConn);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    close: stop,
  };
}
