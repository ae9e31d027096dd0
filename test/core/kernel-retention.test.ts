import { describe, expect, it } from 'vitest';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel, IN_PROC_RETENTION } from '../../src/core/kernel.ts';

describe('kernel in-process bus retention', () => {
  it('keeps at most IN_PROC_RETENTION messages per channel however many are published', async () => {
    const k = await createKernel({
      config: loadConfig({}),
      instance: 'retention-test',
      clock: new SimClock(0),
    });
    try {
      const n = IN_PROC_RETENTION * 3 + 17;
      for (let i = 0; i < n; i++) {
        k.bus.publish(channels.alerts, { type: 'alert', level: 'info', title: 't', body: 'b', ts: i });
      }
      const kept = await k.bus.history(channels.alerts, n);
      expect(kept.length).toBe(IN_PROC_RETENTION);
      // the newest are the ones kept: the ring forgets from the oldest end
      expect(kept.at(-1)!.body.ts).toBe(n - 1);
      expect(kept[0]!.body.ts).toBe(n - IN_PROC_RETENTION);
    } finally {
      await k.bus.close();
    }
  });
});
