/**
 * One run of bus.redis.latency_p99_us in a process of its own (bench/bus.bench.ts starts it): the figure is an
 * agent's latency, not that of a process carrying whatever earlier benches left on its heap. Prints {"p99": µs}.
 */
import { redisLatency } from './bus.bench.ts';

const [seconds, rate] = process.argv.slice(2).map(Number);
// a warm-up as long as the measured window first, not counted: an agent measured is a running one, not one still
// compiling its hot paths and growing its young generation (with 1 s of warm-up the p99 was 0.73–1.19 ms, with the
// same length as measured 0.49–0.63 ms, in-process 0.39–0.64 ms)
await redisLatency(seconds!, rate!);
const p99 = await redisLatency(seconds!, rate!);
process.stdout.write(`${JSON.stringify({ p99 })}\n`);
