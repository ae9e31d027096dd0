/**
 * Bus benchmarks: in-process throughput and latency; Redis Streams throughput against a raw XADD baseline
 * measured in the same run, and latency at a fixed rate. Needs Redis at REDIS_URL (default 127.0.0.1:6379).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createInProcBus } from '../src/core/bus/inproc.ts';
import { createRedisBus } from '../src/core/bus/redis.ts';
import type { Bus } from '../src/core/bus/types.ts';
import { channels } from '../src/core/channels.ts';
import { silentLogger } from '../src/core/log.ts';
import { type BenchContext, childCpuNow, cpuNow, median, nowNs, percentile, repeat } from './harness.ts';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const Msg = z.object({ n: z.number().int(), t: z.number() });
const ch = channels.custom('bench.bus', Msg);
const run$ = promisify(execFile);
/** msgs per CPU-second of this process, per throughput run (Redis's own CPU is not counted) */
const cpuRates = { inproc: [] as number[], redis: [] as number[] };

async function inprocThroughput(n: number): Promise<number> {
  const bus = createInProcBus({ maxLen: 1_000 });
  let got = 0;
  bus.subscribe(ch, { group: 'g' }, () => {
    got++;
  });
  const body = { n: 0, t: 0 };
  const c0 = cpuNow();
  const t0 = nowNs();
  for (let i = 0; i < n; i++) bus.publish(ch, body);
  await bus.idle();
  const dt = (nowNs() - t0) / 1e9;
  cpuRates.inproc.push(n / Math.max(cpuNow() - c0, 1e-6));
  await bus.close();
  if (got !== n) throw new Error(`inproc: got ${got} of ${n}`);
  return n / dt;
}

async function inprocLatency(n: number): Promise<number> {
  const bus = createInProcBus({ maxLen: 1_000 });
  const lat = new Float64Array(n);
  let i = 0;
  bus.subscribe(ch, { group: 'g' }, (m) => {
    lat[i++] = (nowNs() - m.body.t) / 1e3;
  });
  for (let k = 0; k < n; k++) {
    bus.publish(ch, { n: k, t: nowNs() });
    await bus.idle();
  }
  await bus.close();
  return percentile(lat.subarray(2_000), 99); // the first messages warm the JIT
}

async function baselineXadd(): Promise<number> {
  const n = 200_000;
  const { hostname, port } = new URL(REDIS_URL);
  const { stdout } = await run$('redis-benchmark', [
    '-h',
    hostname || '127.0.0.1',
    '-p',
    port || '6379',
    '-P',
    '16',
    '-n',
    String(n),
    '-q',
    'XADD',
    'bench',
    '*',
    'f',
    'v',
  ]);
  const admin = new Redis(REDIS_URL);
  await admin.del('bench');
  await admin.quit();
  // "XADD bench * f v: 431034.47 requests per second, p50=..." (the last progress line wins)
  const m = [...stdout.matchAll(/([\d.]+) requests per second/g)].at(-1);
  if (!m) throw new Error(`cannot read redis-benchmark output: ${stdout}`);
  return Number(m[1]);
}

async function withRedisBus<T>(fn: (bus: Bus) => Promise<T>): Promise<T> {
  const prefix = `bench:${randomUUID()}:`;
  const bus = createRedisBus({
    url: REDIS_URL,
    name: 'bench',
    maxLen: 1_000_000,
    keyPrefix: prefix,
    log: silentLogger(),
  });
  try {
    return await fn(bus);
  } finally {
    await bus.close();
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  }
}

/** Publish → consume → ack, end to end, one process. */
async function redisThroughput(n: number): Promise<number> {
  return withRedisBus(async (bus) => {
    let got = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    bus.subscribe(ch, { group: 'g' }, () => {
      if (++got === n) done();
    });
    await bus.flush();
    const body = { n: 0, t: 0 };
    const c0 = cpuNow();
    const t0 = nowNs();
    const chunk = 2_000;
    for (let i = 0; i < n; i += chunk) {
      for (let k = i; k < Math.min(n, i + chunk); k++) bus.publish(ch, body);
      await tick();
    }
    await finished;
    await bus.close(); // every ack written
    cpuRates.redis.push(n / Math.max(cpuNow() - c0, 1e-6));
    return n / ((nowNs() - t0) / 1e9);
  });
}

/** Publish → handler latency at a steady rate (5 messages every millisecond). */
export async function redisLatency(seconds: number, rate: number): Promise<number> {
  return withRedisBus(async (bus) => {
    const lat: number[] = [];
    bus.subscribe(ch, { group: 'g' }, (m) => {
      lat.push((nowNs() - m.body.t) / 1e3);
    });
    await bus.flush();
    const perMs = rate / 1000;
    const total = Math.round(rate * seconds);
    const start = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) * perMs));
      while (sent < due) bus.publish(ch, { n: sent++, t: nowNs() });
      await new Promise((r) => setTimeout(r, 1));
    }
    while (lat.length < total) await new Promise((r) => setTimeout(r, 5));
    return percentile(lat.slice(Math.floor(total / 10)), 99);
  });
}

/** What each child run of redisLatencyAlone saw besides its p99 (see bench/bus-latency-child.ts). */
interface LatencyRun {
  p99: number;
  /** % of the window this process / the Redis server was runnable but waiting for a core (null: unknown) */
  waitPct: number | null;
  redisWaitPct: number | null;
  gcMaxMs: number;
}
const latencyRuns: LatencyRun[] = [];

/** redisLatency in a child process (bench/bus-latency-child.ts). */
async function redisLatencyAlone(seconds: number, rate: number): Promise<number> {
  const child = fileURLToPath(new URL('./bus-latency-child.ts', import.meta.url));
  const { stdout } = await run$(process.execPath, ['--import', 'tsx', child, String(seconds), String(rate)], {
    env: { ...process.env, REDIS_URL },
  });
  const r = JSON.parse(stdout) as LatencyRun;
  latencyRuns.push(r);
  return r.p99;
}

/** Each run's p99 with its run-queue waits and longest GC pause: whether a tail was the machine or the process. */
function latencyRunsNote(): string {
  const pct = (v: number | null) => (v === null ? '?' : `${v}%`);
  return latencyRuns
    .map(
      (r) =>
        `${Math.round(r.p99)} µs (waited ${pct(r.waitPct)}, Redis ${pct(r.redisWaitPct)}, GC max ${r.gcMaxMs} ms)`,
    )
    .join('; ');
}

export async function run(ctx: BenchContext): Promise<void> {
  const runs = ctx.quick ? 3 : 5;

  const inN = ctx.quick ? 300_000 : 1_000_000;
  await inprocThroughput(inN / 10);
  cpuRates.inproc.length = 0;
  const inTp = median(await repeat(runs, () => inprocThroughput(inN)));
  ctx.record(
    'bus.inproc.throughput_msgs_s',
    inTp,
    `median of ${runs} runs, ${inN} msgs, 1 pub → 1 sync sub; per CPU-second ${Math.round(median(cpuRates.inproc))} msgs`,
  );
  const latN = ctx.quick ? 20_000 : 100_000;
  const inLat = median(await repeat(runs, () => inprocLatency(latN)));
  ctx.record(
    'bus.inproc.latency_p99_us',
    inLat,
    `median of ${runs} runs of p99 over ${latN} msgs, publish → handler`,
  );

  // latency first, before the throughput runs leave big streams behind; each run in a process of its own, as an
  // agent is: this one carries what earlier benches left (a backtest's heap and JIT state, the in-process bus's
  // million messages), and a heap left behind brings a burst of garbage-collection pauses over 1 ms into the window
  // that follows (p99 1.2 ms inside a full bench run, 0.7 ms alone)
  const secs = ctx.quick ? 1 : 3;
  latencyRuns.length = 0;
  const rLat = median(await repeat(runs, () => redisLatencyAlone(secs, 5_000)));
  ctx.record(
    'bus.redis.latency_p99_us',
    rLat,
    // tail latency on a shared 2-core machine follows its load: the harness adds it to the note, and each run says
    // how long its process and Redis waited for a core (the tail is the machine when they waited) and its longest GC
    `median of ${runs} runs of p99, ${secs} s at 5,000 msgs/s, publish → handler, each run a fresh process after a warm-up of the same length; runs: ${latencyRunsNote()}`,
  );

  const xaddRuns = ctx.quick ? 1 : 3;
  const k0 = childCpuNow(); // redis-benchmark is a child process: its CPU shows once it has exited
  const base = median(await repeat(xaddRuns, () => baselineXadd()));
  ctx.record(
    'bus.redis.baseline_xadd_s',
    base,
    `redis-benchmark -P 16 -n 200000 XADD bench '*' f v, same Redis`,
    {
      perCpuS: (xaddRuns * 200_000) / (childCpuNow() - k0),
      cpuOf: 'redis-benchmark (the server not counted)',
    },
  );

  const rN = ctx.quick ? 50_000 : 200_000;
  await redisThroughput(rN / 10);
  cpuRates.redis.length = 0;
  const rTp = median(await repeat(runs, () => redisThroughput(rN)));
  ctx.record(
    'bus.redis.throughput_msgs_s',
    rTp,
    `median of ${runs} runs, ${rN} msgs publish → consume → ack, one process; per CPU-second of that process (Redis not counted) ${Math.round(median(cpuRates.redis))} msgs`,
  );
  ctx.record(
    'bus.redis.ratio',
    rTp / base,
    'bus.redis.throughput_msgs_s / bus.redis.baseline_xadd_s, same run',
  );
}
