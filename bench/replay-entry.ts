/** What bench/replay.bench.ts times, compiled as `pm-arb` runs it (bench/built.ts). */
export { readCaptureBatches } from '../src/capture/reader.ts';
export { replay } from '../src/capture/replay.ts';
export { createInProcBus } from '../src/core/bus/inproc.ts';
export { channels } from '../src/core/channels.ts';
export { SimClock } from '../src/core/clock.ts';
export { tuneV8ForThroughput } from '../src/core/v8-tuning.ts';
export { createDecoders } from '../src/venues/registry.ts';
