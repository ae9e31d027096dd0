/** A kernel on the real in-process bus and a simulated clock, plus a recorder of what a channel carries. */
import { createIds, type Kernel } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import type { Channel } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';

export function testKernel(env: Record<string, string> = {}, start = 1_000): Kernel & { clock: SimClock } {
  const clock = new SimClock(start);
  return {
    config: loadConfig({ DATA_DIR: '/nonexistent-pmarb-test', ...env }),
    bus: createInProcBus({ name: 'test', clock }),
    clock,
    log: silentLogger(),
    ids: createIds('t'),
    instance: 'test',
  };
}

let recorders = 0;

export function record<T>(k: Kernel, ch: Channel<T>): T[] {
  const out: T[] = [];
  k.bus.subscribe(ch, { group: `rec-${ch.name}-${++recorders}` }, (m) => {
    out.push(m.body);
  });
  return out;
}
