/** A scripted FrameSource and a kernel on a SimClock, for the feed-agent tests. */
import { createIds, type Kernel } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { FrameSource, RawFrame } from '../../src/feeds/types.ts';

export interface ScriptedSource extends FrameSource {
  push(frame: RawFrame): void;
  setConnected(v: boolean): void;
  reconnects: number;
}

export function scriptedSource(name = 'scripted'): ScriptedSource {
  let onFrame: ((f: RawFrame) => void) | undefined;
  let connected = false;
  const src: ScriptedSource = {
    name,
    reconnects: 0,
    async start(cb) {
      onFrame = cb;
      connected = true;
    },
    async stop() {
      onFrame = undefined;
      connected = false;
    },
    health: () => ({ connected, reconnects: src.reconnects }),
    push(frame) {
      if (!onFrame) throw new Error('source not started');
      onFrame(frame);
    },
    setConnected(v) {
      connected = v;
    },
  };
  return src;
}

export function simKernel(
  start: number,
  env: Record<string, string> = {},
): { kernel: Kernel; clock: SimClock } {
  const clock = new SimClock(start);
  const kernel: Kernel = {
    config: loadConfig({ STALE_AFTER_MS: '5000', ...env }),
    bus: createInProcBus({ name: 'test', clock }),
    clock,
    log: createLogger('silent'),
    ids: createIds('test'),
    instance: 'test-1',
  };
  return { kernel, clock };
}
