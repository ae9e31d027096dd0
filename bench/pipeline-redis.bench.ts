/**
 * pipeline.redis.tick_to_decision_p99_us: an oracle tick onto Redis → the risk decision back, with the
 * opportunity scanner, the strategy runner and the risk guardian each its own `pm-arb agent` process on Redis
 * (the built CLI, as deployed), at 1,000 ticks/s.
 *
 * The oracle agent is a process too (`pm-arb agent oracle --opt source=binance --opt feeds=live`), reading a fake
 * Binance websocket this process serves on 127.0.0.1 (BINANCE_WS_URL): a tick is a trade frame sent to it, and its
 * latency runs from that send. BENCH_DIRECT_TICKS=1 publishes the ticks on the oracle channel from here instead (no
 * oracle process: the figure of the runs before it had one). This process seeds the markets, oracle links and
 * books. Every tick is for its own asset (one market per asset, 3,000 of them, visited in turn) and moves spot
 * 4% across that market's strike, so each tick is an oracle-lag opportunity for a market whose strategy cooldown
 * has passed; the bench releases each decision's reservation with a failed ExecutionReport. Latency: wall time
 * from publish(tick) to the decision for that market arriving in the bench process, p99 per window, median of
 * the windows. Needs Redis at REDIS_URL (default 127.0.0.1:6379); keys under a random prefix, deleted after.
 * The seed is taken in when every consumer group of the seeded streams has read and acked it (no fixed wait).
 * BENCH_HOPS=1 also logs, per window, each hop as this process sees the messages arrive: tick → opportunity →
 * trade request → decision (where a tail comes from). BENCH_SERIAL=1 sends one tick at a time (see `serial`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { createRedisBus } from '../src/core/bus/redis.ts';
import { ioredisUrl } from '../src/core/bus/redis-url.ts';
import { channels } from '../src/core/channels.ts';
import { silentLogger } from '../src/core/log.ts';
import type { Market } from '../src/core/messages.ts';
import { type BenchContext, median, percentile } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const E8 = 100_000_000;
const MARKETS = 3_000;
const AGENTS = ['opportunity-scanner', 'strategy-runner', 'risk-guardian'] as const;
/** `pm-arb agent` arguments of the oracle agent on the fake Binance websocket. */
const ORACLE = ['oracle', '--opt', 'source=binance', '--opt', 'feeds=live'] as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every consumer group of `keys` has read and acked everything in its stream (XINFO GROUPS: lag 0,
 * nothing pending): the agents took in what was published. At most `maxMs`; false when that ran out.
 */
async function drained(admin: Redis, keys: readonly string[], maxMs: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < maxMs; await sleep(50)) {
    let done = true;
    for (const key of keys) {
      const groups = (await admin.call('XINFO', 'GROUPS', key).catch(() => [])) as unknown[][];
      if (groups.length === 0) done = false;
      for (const g of groups) {
        const f = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
        if (Number(f.get('pending')) !== 0 || Number(f.get('lag')) !== 0) done = false;
      }
      if (!done) break;
    }
    if (done) return true;
  }
  return false;
}
/** Calls per command so far (INFO commandstats; counts every client of the Redis, so use a Redis of your own). */
async function commandCalls(r: Redis): Promise<Map<string, number>> {
  const info = (await r.call('INFO', 'commandstats')) as string;
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}
/** CPU seconds (user + system) the Redis server has used so far (INFO cpu; all its clients). */
async function redisCpu(r: Redis): Promise<number> {
  const info = (await r.call('INFO', 'cpu')) as string;
  const f = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return f('used_cpu_user') + f('used_cpu_sys');
}
const TICKS_PER_S = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is no /proc). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** Read and write system calls a process has made so far (/proc/<pid>/io; zeros where there is none). */
function syscalls(pid: number | undefined): { r: number; w: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/^syscr: (\d+)/m.exec(io)?.[1]), w: Number(/^syscw: (\d+)/m.exec(io)?.[1]) };
  } catch {
    return { r: 0, w: 0 };
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const rate = 1_000;
  // BENCH_HOPS=1: also time each hop (this process reads the opportunities too) and log them per window
  const hopsOn = process.env.BENCH_HOPS === '1';
  // BENCH_SERIAL=1: one tick in flight at a time (the next one once its decision is back, or after 100 ms) instead
  // of 1,000/s: the CPU per tick of each process without the batching a backlog brings, which on a busy machine
  // lowers it as the latency grows (for comparing builds; its latency is not the metric's)
  const serial = process.env.BENCH_SERIAL === '1';
  const direct = process.env.BENCH_DIRECT_TICKS === '1';
  // the fake Binance: the oracle agent connects to it; ticks go out to every socket it has
  const wss = direct ? undefined : new WebSocketServer({ host: '127.0.0.1', port: 0 });
  if (wss) await new Promise<void>((r) => wss.once('listening', () => r()));
  const wsPort = wss ? (wss.address() as AddressInfo).port : 0;
  const agents: readonly (readonly string[])[] = [...(direct ? [] : [ORACLE]), ...AGENTS.map((a) => [a])];
  let onDecided: (() => void) | undefined;
  const began = performance.now();
  const phase = (what: string): void =>
    ctx.log(`${what} at ${((performance.now() - began) / 1000).toFixed(1)} s`);
  const windows = ctx.quick ? 1 : 5;
  const windowS = ctx.quick ? 2 : 6;
  const prefix = `bench:${randomUUID()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bench-pr-'));
  const env = {
    ...process.env,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    INITIAL_BANKROLL: '100000000',
    STALE_AFTER_MS: '3600000', // the books are seeded once; they must not go stale during the run
    DATABASE_URL: '',
    BINANCE_WS_URL: `ws://127.0.0.1:${wsPort}`,
    BINANCE_API_URL: 'http://127.0.0.1:9', // REST is polled only while the websocket is down: it never is here
  };
  const bus = createRedisBus({ url: REDIS_URL, name: 'bench', keyPrefix: prefix, log: silentLogger() });
  const procs: ChildProcess[] = [];
  let errs = '';
  try {
    const seen = new Set<string>();
    bus.subscribe(channels.health, { group: 'bench' }, (m) => {
      seen.add(m.body.agent);
    });
    for (const a of agents) {
      // BENCH_AGENT_NODE_ARGS: node flags for the agents (e.g. --cpu-prof, which NODE_OPTIONS does not take)
      const nodeArgs = process.env.BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const args = [...nodeArgs, join(root, 'bin/pm-arb.js'), 'agent', ...a, '--heartbeat-ms', '250'];
      const p = spawn(process.execPath, args, {
        cwd: dir,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      p.stderr!.on('data', (d) => {
        errs = (errs + d).slice(-4000);
      });
      procs.push(p);
    }
    const names = [...(direct ? [] : ['oracle-binance']), ...AGENTS];
    for (
      const t0 = Date.now();
      names.some((a) => !seen.has(a)) || wss?.clients.size === 0;
      await sleep(100)
    ) {
      if (Date.now() - t0 > 60_000) throw new Error(`agents not up after 60 s (seen ${[...seen]}): ${errs}`);
      if (procs.some((p) => p.exitCode !== null)) throw new Error(`an agent exited: ${errs}`);
    }
    phase('agents up');
    const now = Date.now();
    for (let k = 0; k < MARKETS; k++) {
      const market: Market = {
        type: 'market',
        venue: 'polymarket',
        marketId: `m${k}`,
        question: `Will A${k} be above $100,000?`,
        rules: '',
        outcomes: [
          { tokenId: `m${k}y`, label: 'Yes', side: 'yes' },
          { tokenId: `m${k}n`, label: 'No', side: 'no' },
        ],
        tickSize: 10_000,
        minSize: 5_000_000,
        fees: { kind: 'polymarket', rate: 0, exponent: 1, takerOnly: true, rebateRate: 0 },
        endTime: now + 86_400_000,
        status: 'open',
        version: '1',
        receiveTime: now,
      };
      bus.publish(channels.markets('polymarket'), market);
      bus.publish(channels.oracleLinks, {
        type: 'oracle_link',
        market: { venue: 'polymarket', marketId: `m${k}` },
        symbol: `A${k}/USDT`,
        asset: `A${k}`,
        kind: 'above',
        strike: 100_000 * E8,
        expiry: now + 86_400_000,
        settlementSource: 'binance',
        yesToken: `m${k}y`,
        noToken: `m${k}n`,
      });
      for (const tok of [`m${k}y`, `m${k}n`]) {
        bus.publish(channels.books('polymarket'), {
          type: 'book',
          venue: 'polymarket',
          marketId: `m${k}`,
          tokenId: tok,
          bids: [[480_000, 500_000_000]],
          asks: [[500_000, 500_000_000]],
          stale: false,
          receiveTime: now,
        });
      }
    }
    // the agents take in the seed (every group of the seeded streams has read and acked it all), then settle
    const admin = new Redis(ioredisUrl(REDIS_URL), { lazyConnect: false });
    const seeded = [channels.markets('polymarket'), channels.oracleLinks, channels.books('polymarket')];
    const took = await drained(
      admin,
      seeded.map((c) => prefix + c.name),
      10_000,
    ).finally(() => admin.quit());
    if (!took) ctx.log('pipeline over Redis: the agents had not taken in the seed after 10 s; going on');
    phase('seed taken in');
    await sleep(ctx.quick ? 200 : 1_000);
    const sentAt = new Float64Array(MARKETS);
    const visits = new Uint32Array(MARKETS);
    let lat: number[] = [];
    let decided = 0;
    // per hop, as this process sees each message arrive (µs): tick → opportunity, → trade request, → decision
    const oppAt = new Float64Array(MARKETS);
    const reqAt = new Float64Array(MARKETS);
    let hops: [number[], number[], number[]] = [[], [], []];
    const marketOfToken = (tokenId: string | undefined): number =>
      Number(/^m(\d+)[yn]$/.exec(tokenId ?? '')?.[1] ?? -1);
    if (hopsOn) {
      bus.subscribe(channels.opportunities, { group: 'bench' }, (m) => {
        const k = marketOfToken(m.body.legs[0]?.tokenId);
        if (k >= 0 && sentAt[k]! > 0 && oppAt[k] === 0) oppAt[k] = performance.now();
      });
    }
    /** A decision of this tick arrived at `at`: its latency, and the hops when they were seen. */
    const decide = (k: number, at: number): void => {
      if (k < 0 || !(sentAt[k]! > 0)) return;
      lat.push((at - sentAt[k]!) * 1000);
      if (hopsOn && oppAt[k]! > 0 && reqAt[k]! > 0) {
        hops[0].push((oppAt[k]! - sentAt[k]!) * 1000);
        hops[1].push((reqAt[k]! - oppAt[k]!) * 1000);
        hops[2].push((at - reqAt[k]!) * 1000);
      }
      sentAt[k] = 0;
      oppAt[k] = 0;
      reqAt[k] = 0;
      onDecided?.();
    };
    // a decision names its request; the request names the market (a rejection carries no legs). The two arrive on
    // different streams in either order: a decision read before its request waits for it here (it was lost before)
    const marketOf = new Map<string, number>();
    const early = new Map<string, number>();
    bus.subscribe(channels.tradeRequests, { group: 'bench' }, (m) => {
      const k = marketOfToken(m.body.legs[0]?.tokenId);
      const now = performance.now();
      if (k >= 0 && sentAt[k]! > 0 && reqAt[k] === 0) reqAt[k] = now;
      const at = early.get(m.body.id);
      if (at === undefined) marketOf.set(m.body.id, k);
      else {
        early.delete(m.body.id);
        decide(k, at);
      }
    });
    bus.subscribe(channels.riskDecisions, { group: 'bench' }, (m) => {
      const now = performance.now();
      const k = marketOf.get(m.body.requestId);
      if (k === undefined) early.set(m.body.requestId, now);
      else {
        marketOf.delete(m.body.requestId);
        decide(k, now);
      }
      decided++;
      bus.publish(channels.executions, {
        type: 'execution_report',
        id: `x${m.body.requestId}`,
        requestId: m.body.requestId,
        strategy: m.body.strategy,
        status: 'failed',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: Date.now(),
      });
    });
    let next = 0;
    const sendTick = (): void => {
      const k = next++ % MARKETS;
      const spot = (visits[k]!++ % 2 === 0 ? 104_000 : 96_000) * E8;
      sentAt[k] = performance.now();
      if (wss) {
        const now = Date.now();
        const frame = JSON.stringify({
          stream: `a${k}usdt@trade`,
          data: {
            e: 'trade',
            E: now,
            s: `A${k}USDT`,
            t: next,
            p: (spot / E8).toFixed(2),
            q: '0.001',
            T: now,
            m: false,
          },
        });
        for (const c of wss.clients) c.send(frame);
        return;
      }
      bus.publish(channels.ticks('binance'), {
        type: 'tick',
        source: 'binance',
        symbol: `A${k}/USDT`,
        price: spot,
        stale: false,
        receiveTime: Date.now(),
      });
    };
    const tickWindow = async (seconds: number): Promise<number> => {
      const t0 = performance.now();
      let sent = 0;
      for (;;) {
        const elapsed = (performance.now() - t0) / 1000;
        if (elapsed >= seconds) break;
        if (serial) {
          sendTick();
          sent++;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 100);
            onDecided = () => {
              clearTimeout(t);
              resolve();
            };
          });
          onDecided = undefined;
          continue;
        }
        for (const due = Math.floor(elapsed * rate); sent < due; sent++) sendTick();
        await sleep(1);
      }
      // the last decisions: until none is outstanding (a tick that leads to none waits out the 500 ms)
      for (const t1 = performance.now(); performance.now() - t1 < 500; await sleep(5)) {
        if (!sentAt.some((t) => t > 0)) break;
      }
      return sent;
    };
    await tickWindow(ctx.quick ? 1 : 2); // warm-up: JIT, connections
    const p99s: number[] = [];
    const p50s: number[] = [];
    let ticks = 0;
    let got = 0;
    // CPU the three agents spend per tick: what the latency costs, whatever else shares the machine
    const cpu0 = procs.map((p) => cpuSeconds(p.pid));
    // BENCH_HOPS: socket reads and writes per tick of each agent (each a system call, most of an agent's CPU)
    const io0 = procs.map((p) => syscalls(p.pid));
    const ownIo0 = syscalls(process.pid);
    // this process (the oracle stand-in, and the one that times) shares the 2 cores with them: its CPU too
    const own0 = process.cpuUsage();
    // BENCH_HOPS: Redis commands per tick over the windows (every round trip wakes Redis and a process)
    const stats = hopsOn ? new Redis(ioredisUrl(REDIS_URL)) : undefined;
    const calls0 = stats ? await commandCalls(stats) : undefined;
    const redis0 = stats ? await redisCpu(stats) : 0;
    for (let w = 0; w < windows; w++) {
      lat = [];
      hops = [[], [], []];
      ticks += await tickWindow(windowS);
      got += lat.length;
      p99s.push(percentile(lat, 99));
      p50s.push(percentile(lat, 50));
      if (hopsOn) {
        const q = (xs: number[]): string =>
          `p50 ${percentile(xs, 50).toFixed(0)} p99 ${percentile(xs, 99).toFixed(0)} max ${percentile(xs, 100).toFixed(0)}`;
        ctx.log(
          `window ${w}: tick→decision ${q(lat)}; tick→opp ${q(hops[0])}; opp→request ${q(hops[1])}; request→decision ${q(hops[2])} (µs, ${hops[0].length} with every hop seen)`,
        );
      }
    }
    const cpuUs = procs.map((p, i) => ((cpuSeconds(p.pid) - cpu0[i]!) * 1e6) / Math.max(ticks, 1));
    if (hopsOn) {
      const per = procs.map((p, i) => {
        const io = syscalls(p.pid);
        const t = Math.max(ticks, 1);
        return `${names[i]} ${((io.r - io0[i]!.r) / t).toFixed(2)}/${((io.w - io0[i]!.w) / t).toFixed(2)}`;
      });
      const own = syscalls(process.pid);
      const t = Math.max(ticks, 1);
      per.push(`bench ${((own.r - ownIo0.r) / t).toFixed(2)}/${((own.w - ownIo0.w) / t).toFixed(2)}`);
      ctx.log(`read/write system calls per tick: ${per.join(', ')}`);
    }
    if (stats && calls0) {
      const calls1 = await commandCalls(stats);
      // Redis shares the machine too: its CPU per tick (every client's commands; a Redis of your own)
      ctx.log(
        `Redis CPU per tick: ${((((await redisCpu(stats)) - redis0) * 1e6) / Math.max(ticks, 1)).toFixed(0)} µs`,
      );
      await stats.quit();
      const per = [...calls1]
        .map(([c, n]) => [c, (n - (calls0.get(c) ?? 0)) / Math.max(ticks, 1)] as const)
        .filter(([, n]) => n >= 0.05)
        .sort((a, b) => b[1] - a[1]);
      ctx.log(`Redis commands per tick: ${per.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', ')}`);
    }
    const own = process.cpuUsage(own0);
    const ownUs = (own.user + own.system) / Math.max(ticks, 1);
    const cpuNote = `${names.map((a, i) => `${a} ${cpuUs[i]!.toFixed(0)}`).join(', ')}, bench ${ownUs.toFixed(0)}`;
    ctx.log(
      `pipeline over Redis${serial ? ' (serial: one tick at a time)' : ''}: p50 ${median(p50s).toFixed(0)} µs, p99 ${median(p99s).toFixed(0)} µs; ${got}/${ticks} ticks decided, ${decided} decisions in all; CPU per tick (µs): ${cpuNote}`,
    );
    if (got < ticks * 0.5) throw new Error(`only ${got} of ${ticks} ticks led to a decision: ${errs}`);
    if (serial) return; // not the metric's load
    ctx.record(
      'pipeline.redis.tick_to_decision_p99_us',
      median(p99s),
      `median of ${windows} windows × ${windowS} s at ${rate} ticks/s of the p99, ${direct ? 'publish(tick)' : 'trade frame sent to the oracle agent'} → risk decision back; ${direct ? '' : 'oracle agent (on a local fake Binance websocket), '}scanner, strategy runner, risk guardian each a \`pm-arb agent\` process on Redis${direct ? '; tick published by the bench (BENCH_DIRECT_TICKS)' : ''}; p50 ${median(p50s).toFixed(0)} µs; ${got}/${ticks} ticks decided; CPU per tick (µs): ${cpuNote}`,
    );
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => (p.exitCode === null ? new Promise((r) => p.on('exit', r)) : undefined)),
    );
    await bus.close();
    if (wss) {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
    const admin = new Redis(ioredisUrl(REDIS_URL));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}
