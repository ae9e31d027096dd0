/**
 * One run of bus.redis.latency_p99_us in a process of its own (bench/bus.bench.ts starts it): the figure is an
 * agent's latency, not that of a process carrying whatever earlier benches left on its heap. Prints
 * {"p99": µs, "waitPct": …, "redisWaitPct": …, "gcMaxMs": …}: beside the p99, how much of the measured window this
 * process and the Redis server spent runnable but waiting for a core (Linux /proc/<pid>/schedstat; null elsewhere)
 * and the longest GC pause in it, so that each run says whether its tail was the machine or the process.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { redisLatency } from './bus.bench.ts';

const [seconds, rate] = process.argv.slice(2).map(Number);

/** ns spent waiting on a run queue so far (schedstat's second field), or NaN where there is no /proc. */
function runQueueNs(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/** The Redis server's pid when it runs on this machine (its /proc entry is readable), else undefined. */
async function redisPid(): Promise<number | undefined> {
  const r = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true });
  try {
    await r.connect();
    const m = /process_id:(\d+)/.exec(await r.info('server'));
    const pid = m ? Number(m[1]) : undefined;
    return pid !== undefined && Number.isFinite(runQueueNs(pid)) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

const gcPauses: number[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push(e.duration);
});
gcObserver.observe({ entryTypes: ['gc'] });
const server = await redisPid();

// a warm-up as long as the measured window first, not counted: an agent measured is a running one, not one still
// compiling its hot paths and growing its young generation (with 1 s of warm-up the p99 was 0.73–1.19 ms, with the
// same length as measured 0.49–0.63 ms, in-process 0.39–0.64 ms)
await redisLatency(seconds!, rate!);
gcPauses.length = 0;
const w0 = runQueueNs('self');
const r0 = server === undefined ? Number.NaN : runQueueNs(server);
const t0 = performance.now();
const p99 = await redisLatency(seconds!, rate!);
const wallNs = (performance.now() - t0) * 1e6;
const pct = (ns: number) => (Number.isFinite(ns) ? Math.round((1000 * ns) / wallNs) / 10 : null);
gcObserver.disconnect();
process.stdout.write(
  `${JSON.stringify({
    p99,
    waitPct: pct(runQueueNs('self') - w0),
    redisWaitPct: server === undefined ? null : pct(runQueueNs(server) - r0),
    gcMaxMs: Math.round(Math.max(0, ...gcPauses) * 100) / 100,
  })}\n`,
);
