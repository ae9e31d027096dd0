/**
 * One run of bus.redis.latency_p99_us in a process of its own (bench/bus.bench.ts starts it): the figure is an
 * agent's latency, not that of a process carrying whatever earlier benches left on its heap. Prints {"p99": µs}.
 */
import { redisLatency } from './bus.bench.ts';

const [seconds, rate] = process.argv.slice(2).map(Number);
const p99 = await redisLatency(seconds!, rate!);
process.stdout.write(`${JSON.stringify({ p99 })}\n`);
