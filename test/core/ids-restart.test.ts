import { describe, expect, it } from 'vitest';
import { createIds } from '../../src/core/agent.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel, defaultInstance } from '../../src/core/kernel.ts';

describe('ids across restarts (same host, same PID)', () => {
  it('a process restarted with the same host and PID issues ids its previous life never did', async () => {
    const config = loadConfig({});
    // two lives of one container: PID 1 on host "box" both times
    const first = await createKernel({ config, host: 'box', pid: 1 });
    const second = await createKernel({ config, host: 'box', pid: 1 });
    try {
      expect(first.instance).toMatch(/^box-1-[0-9a-f]{8}$/);
      expect(second.instance).not.toBe(first.instance);
      const a = Array.from({ length: 200 }, () => first.ids.next('fill'));
      const b = Array.from({ length: 200 }, () => second.ids.next('fill'));
      expect(new Set([...a, ...b]).size).toBe(400);
    } finally {
      await first.bus.close();
      await second.bus.close();
    }
  });

  it('without the per-boot part the two lives would collide (what the boot part prevents)', () => {
    const a = createIds('box-1');
    const b = createIds('box-1');
    expect(a.next('fill')).toBe(b.next('fill'));
    expect(defaultInstance('box', 1)).not.toBe(defaultInstance('box', 1));
    expect(defaultInstance('box', 1, 'cafe')).toBe('box-1-cafe');
  });
});
